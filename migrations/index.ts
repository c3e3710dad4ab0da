/** Every migration, oldest first. Listed explicitly so the same list works from sources and from dist/. */
import { Foundation1763800000000 } from "./1763800000000-foundation";
import { Clips1763900000000 } from "./1763900000000-clips";
import { Alerts1764000000000 } from "./1764000000000-alerts";
import { Feedback1764100000000 } from "./1764100000000-feedback";
import { Notifications1764200000000 } from "./1764200000000-notifications";
import { Edge1764300000000 } from "./1764300000000-edge";
import { AuditRetention1764400000000 } from "./1764400000000-audit-retention";
import { AlertCamera1764500000000 } from "./1764500000000-alert-camera";
import { DurableEvaluation1764700000000 } from "./1764700000000-durable-evaluation";
import { TrackPaths1764800000000 } from "./1764800000000-TrackPaths";
import { LiveStreams1764900000000 } from "./1764900000000-LiveStreams";
import { RecordingIndex1765000000000 } from "./1765000000000-RecordingIndex";
import { CameraDetectEvery1765100000000 } from "./1765100000000-CameraDetectEvery";
import { LiveSegmentIdentity1765200000000 } from "./1765200000000-LiveSegmentIdentity";
import { OperatorActor1765300000000 } from "./1765300000000-OperatorActor";

export const MIGRATIONS = [
	Foundation1763800000000,
	Clips1763900000000,
	Alerts1764000000000,
	Feedback1764100000000,
	Notifications1764200000000,
	Edge1764300000000,
	AuditRetention1764400000000,
	AlertCamera1764500000000,
	DurableEvaluation1764700000000,
	TrackPaths1764800000000,
	LiveStreams1764900000000,
	RecordingIndex1765000000000,
	CameraDetectEvery1765100000000,
	LiveSegmentIdentity1765200000000,
	OperatorActor1765300000000,
];
