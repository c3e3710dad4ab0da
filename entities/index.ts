import { Camera } from "./camera.entity";
import { Invitation } from "./invitation.entity";
import { LoginThrottle } from "./login-throttle.entity";
import { Membership } from "./membership.entity";
import { Organization } from "./organization.entity";
import { RefreshToken } from "./refresh-token.entity";
import { ServiceToken } from "./service-token.entity";
import { Store } from "./store.entity";
import { User } from "./user.entity";
import { Zone } from "./zone.entity";

export { Camera, Invitation, LoginThrottle, Membership, Organization, RefreshToken, ServiceToken, Store, User, Zone };
export const ENTITIES = [User, RefreshToken, LoginThrottle, ServiceToken, Organization, Store, Membership, Invitation, Camera, Zone];
