/** Every migration, oldest first. Listed explicitly so the same list works from sources and from dist/. */
import { Foundation1763800000000 } from "./1763800000000-foundation";

export const MIGRATIONS = [Foundation1763800000000];
