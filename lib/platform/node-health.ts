/**
 * Readiness of one node, as its internal /readyz reports it: the broker has started its services (a detector
 * has loaded its model), and the connections this node holds answer: the transporter where there is one, the
 * database where a service of this node opened it. Dependencies on other nodes are not checked here (the
 * gateway's own /readyz does that), so one slow service never takes the whole fleet out of rotation.
 */
import type { ServiceBroker } from "moleculer";
import type { Readiness } from "./metrics-server";
import { openedDatabase } from "./node-context";

const DATABASE_CHECK_MS = 2000;

export async function nodeReadiness(broker: ServiceBroker): Promise<Readiness> {
	const checks: Record<string, string> = {};
	const stopping = (broker as ServiceBroker & { stopping?: boolean }).stopping;
	checks.broker = stopping ? "stopping" : broker.started ? "ok" : "starting";
	const transit = broker.transit as { connected?: boolean } | undefined;
	if (transit) checks.transporter = transit.connected ? "ok" : "down";
	const database = openedDatabase(broker);
	if (database) checks.database = await databaseCheck(database);
	return { ready: Object.values(checks).every((v) => v === "ok"), checks };
}

async function databaseCheck(database: Promise<import("typeorm").DataSource>): Promise<string> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${DATABASE_CHECK_MS} ms`), DATABASE_CHECK_MS)));
	const query = database
		.then((db) => db.query("SELECT 1"))
		.then(
			() => "ok",
			() => "down",
		);
	return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
}
