import { Alert } from "./alert.entity";
import { AlertRule } from "./alert-rule.entity";
import { AuditEntry } from "./audit-entry.entity";
import { Camera } from "./camera.entity";
import { CameraLiveness } from "./camera-liveness.entity";
import { CameraState } from "./camera-state.entity";
import { Clip } from "./clip.entity";
import { ClipEvaluation } from "./clip-evaluation.entity";
import { ClipSegment } from "./clip-segment.entity";
import { Detection } from "./detection.entity";
import { EdgeBox } from "./edge-box.entity";
import { EdgeCommand } from "./edge-command.entity";
import { EdgeEvent } from "./edge-event.entity";
import { Invitation } from "./invitation.entity";
import { LearnedThreshold } from "./learned-threshold.entity";
import { LiveStream } from "./live-stream.entity";
import { LoginThrottle } from "./login-throttle.entity";
import { Membership } from "./membership.entity";
import { NotificationChannel } from "./notification-channel.entity";
import { NotificationDelivery } from "./notification-delivery.entity";
import { NotificationDigest } from "./notification-digest.entity";
import { NotificationMute } from "./notification-mute.entity";
import { NotificationWindow } from "./notification-window.entity";
import { Organization } from "./organization.entity";
import { RefreshToken } from "./refresh-token.entity";
import { RetentionPolicy } from "./retention-policy.entity";
import { RetentionRun } from "./retention-run.entity";
import { ServiceToken } from "./service-token.entity";
import { Store } from "./store.entity";
import { Track } from "./track.entity";
import { User } from "./user.entity";
import { Verdict } from "./verdict.entity";
import { Zone } from "./zone.entity";

export {
	Alert,
	AlertRule,
	Camera,
	CameraState,
	Clip,
	ClipEvaluation,
	ClipSegment,
	Detection,
	Invitation,
	LoginThrottle,
	Membership,
	Organization,
	RefreshToken,
	ServiceToken,
	Store,
	Track,
	User,
	Zone,
};
export { AuditEntry, RetentionPolicy, RetentionRun };
export { NotificationChannel, NotificationDelivery, NotificationDigest, NotificationMute, NotificationWindow };
export { LearnedThreshold, Verdict };
export { CameraLiveness, EdgeBox, EdgeCommand, EdgeEvent, LiveStream };
export const ENTITIES = [
	User,
	RefreshToken,
	LoginThrottle,
	ServiceToken,
	Organization,
	Store,
	Membership,
	Invitation,
	Camera,
	Zone,
	Clip,
	ClipSegment,
	ClipEvaluation,
	Detection,
	AlertRule,
	Alert,
	Track,
	CameraState,
	AuditEntry,
	RetentionPolicy,
	RetentionRun,
	NotificationChannel,
	NotificationDigest,
	NotificationDelivery,
	NotificationWindow,
	NotificationMute,
	Verdict,
	LearnedThreshold,
	EdgeEvent,
	EdgeBox,
	EdgeCommand,
	CameraLiveness,
	LiveStream,
];
