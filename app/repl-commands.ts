/**
 * The operator commands of `vigil repl`, in moleculer-repl's `customCommands` shape. Each calls the cluster's
 * actions as an operator (`operatorMeta`): a super-admin's rights, audited as the operator by name (OS user and
 * host), never as a user or the system. Output comes from lib/operations/repl-format.ts and goes to `print`.
 */
import { randomBytes } from "node:crypto";
import { hostname, userInfo } from "node:os";
import type { ServiceBroker } from "moleculer";
import type { Meta } from "../lib/platform/types";
import {
	formatCameras,
	formatClip,
	formatLetter,
	formatLetters,
	formatNodes,
	formatQueues,
	formatRetentionRun,
	formatThresholds,
	type CameraHealthRow,
	type ClipView,
	type LetterView,
	type NodeRow,
	type QueueRow,
	type RetentionRunView,
	type ThresholdRow,
} from "../lib/operations/repl-format";
import { EVALUATE_QUEUE } from "../services/alert.contract";
import { DETECT_QUEUE } from "../services/detector.contract";

/** Which service works each queue: its consumers are the nodes running it. */
const QUEUE_WORKERS: Record<string, string> = { [DETECT_QUEUE]: "detector", [EVALUATE_QUEUE]: "alert", notify: "notifier" };

/** What moleculer-repl hands a custom command: positional arguments by name, and `options`. */
export interface CommandArgs {
	options: Record<string, unknown>;
	[name: string]: unknown;
}

/** A moleculer-repl custom command (its `customCommands` option, or the broker option `replCommands`). */
export interface OperatorCommand {
	command: string;
	description: string;
	options?: { option: string; description: string }[];
	action: (broker: ServiceBroker, args: CommandArgs) => Promise<void>;
}

/** Who runs the commands: the OS user at this host (what the audit log records). */
export const operatorName = (): string => `${userInfo().username}@${hostname()}`;

/** The meta of an operator's call: the operator caller, and a request id that ties an audit entry to the command. */
export function operatorMeta(name = operatorName()): Meta {
	return { caller: { kind: "operator", name, superAdmin: true }, requestId: `repl-${randomBytes(6).toString("hex")}`, userAgent: "vigil repl" };
}

export function operatorCommands(print: (text: string) => void = (text) => process.stdout.write(`${text}\n`), name = operatorName()): OperatorCommand[] {
	const call = <T>(broker: ServiceBroker, action: string, params: object = {}) => broker.call<T, object>(action, params, { meta: operatorMeta(name) });
	const nodes = async (broker: ServiceBroker) => (await call<{ items: NodeRow[] }>(broker, "jobs.nodes")).items;

	return [
		{
			command: "queues",
			description: "Depth, consumers, oldest age and dead letters per job queue",
			async action(broker) {
				const [{ items }, cluster] = await Promise.all([call<{ items: QueueRow[] }>(broker, "jobs.queues"), nodes(broker)]);
				const consumers = Object.fromEntries(
					items.map((q) => [q.queue, cluster.filter((n) => n.available && n.services.includes(QUEUE_WORKERS[q.queue])).map((n) => n.nodeId)]),
				);
				print(formatQueues(items, consumers));
			},
		},
		{
			command: "nodes",
			description: "Which node runs which services, each detector's backend and model, and load",
			async action(broker) {
				print(formatNodes(await nodes(broker), broker.nodeID));
			},
		},
		{
			command: "cameras",
			description: "Cameras by liveness per organization; --stale lists the stale and offline ones",
			options: [{ option: "--stale", description: "List the cameras not seen lately (stale or offline)" }],
			async action(broker, args) {
				const orgs = (await call<{ items: { id: string; name: string }[] }>(broker, "tenancy.listOrgs")).items;
				const health = await Promise.all(
					orgs.map(async (org) => ({
						name: org.name,
						...(await call<{ counts: Record<string, number>; items: CameraHealthRow[] }>(broker, "ingest.cameraHealth", { orgId: org.id })),
					})),
				);
				print(formatCameras(health, Boolean(args.options.stale)));
			},
		},
		{
			command: "clip <clipId>",
			description: "A clip's status, progress and failure",
			async action(broker, args) {
				const where = await call<{ orgId: string; storeId: string }>(broker, "clip.locate", { clipId: args.clipId });
				print(formatClip(await call<ClipView>(broker, "clip.get", { ...where, clipId: args.clipId })));
			},
		},
		{
			command: "reprocess <clipId>",
			description: "Run detection on a clip again (audited)",
			async action(broker, args) {
				const where = await call<{ orgId: string; storeId: string }>(broker, "clip.locate", { clipId: args.clipId });
				const clip = await call<ClipView>(broker, "clip.reprocess", { ...where, clipId: args.clipId });
				print(`Clip ${clip.id} queued again: ${clip.status}`);
			},
		},
		{
			command: "thresholds <cameraId>",
			description: "A camera's score thresholds per class: learned, pinned, verdicts, precision",
			async action(broker, args) {
				const camera = await call<{ cameraId: string; name: string; orgId: string; storeId: string }>(broker, "camera.locate", { cameraId: args.cameraId });
				const { items } = await call<{ items: ThresholdRow[] }>(broker, "feedback.thresholds", {
					orgId: camera.orgId,
					storeId: camera.storeId,
					cameraId: camera.cameraId,
				});
				print(formatThresholds(camera, items));
			},
		},
		{
			command: "dlq <verb> [queue] [letterId]",
			description:
				"Dead letters: list [queue] | show <queue> <letterId> | replay <queue> <letterId> | discard <queue> <letterId> (replay and discard are audited)",
			async action(broker, args) {
				const verb = String(args.verb);
				const letter = { queue: args.queue, letterId: args.letterId };
				if (verb === "list") {
					const { items } = await call<{ items: LetterView[] }>(broker, "jobs.listAll", { ...(args.queue ? { queue: args.queue } : {}), limit: 50 });
					return print(formatLetters(items));
				}
				if (!["show", "replay", "discard"].includes(verb)) return print(`Unknown dlq command "${verb}": list, show, replay or discard`);
				if (!args.queue || !args.letterId) return print(`Usage: dlq ${verb} <queue> <letterId>  (see dlq list)`);
				if (verb === "show") return print(formatLetter(await call<LetterView>(broker, "jobs.getAny", letter)));
				if (verb === "replay") {
					const { jobId } = await call<{ jobId: string }>(broker, "jobs.replayAny", letter);
					return print(`Replayed ${args.queue}/${args.letterId} as job ${jobId}`);
				}
				await call(broker, "jobs.discardAny", letter);
				print(`Discarded ${args.queue}/${args.letterId}`);
			},
		},
		{
			command: "retention <verb>",
			description: "retention run: run the retention cleanup now and print its report (audited)",
			async action(broker, args) {
				if (args.verb !== "run") return print(`Unknown retention command "${String(args.verb)}": run`);
				print(formatRetentionRun(await call<RetentionRunView>(broker, "retention.runNow")));
			},
		},
	];
}
