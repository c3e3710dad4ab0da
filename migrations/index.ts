/** Every migration, oldest first. Listed explicitly so the same list works from sources and from dist/. */
import { Foundation1763800000000 } from "./1763800000000-foundation";
import { Clips1763900000000 } from "./1763900000000-clips";
import { Alerts1764000000000 } from "./1764000000000-alerts";

export const MIGRATIONS = [Foundation1763800000000, Clips1763900000000, Alerts1764000000000];
