/** What the services of one node share: the validated config and the node's one database connection. */
import type { ServiceBroker } from "moleculer";
import type { DataSource } from "typeorm";
import type { Config } from "./config";
import { openDatabase } from "./database";

interface NodeContext {
	config: Config;
	database?: Promise<DataSource>;
}

const contexts = new WeakMap<ServiceBroker, NodeContext>();

export function attachNodeContext(broker: ServiceBroker, config: Config): void {
	contexts.set(broker, { config });
}

export function nodeConfig(broker: ServiceBroker): Config {
	const context = contexts.get(broker);
	if (!context) throw new Error("This broker was not created by createNode(): no Vigil config attached");
	return context.config;
}

/** Opened (and migrated) once per node, on first use. */
export function nodeDatabase(broker: ServiceBroker): Promise<DataSource> {
	const context = contexts.get(broker);
	if (!context) throw new Error("This broker was not created by createNode(): no Vigil config attached");
	context.database ??= openDatabase(context.config);
	return context.database;
}

/** The node's database if one of its services opened it (a detector or gateway node has none). */
export function openedDatabase(broker: ServiceBroker): Promise<DataSource> | undefined {
	return contexts.get(broker)?.database;
}

export async function closeNodeDatabase(broker: ServiceBroker): Promise<void> {
	const context = contexts.get(broker);
	if (!context?.database) return;
	const pending = context.database;
	context.database = undefined;
	const db = await pending.catch(() => undefined);
	if (db?.isInitialized) await db.destroy();
}
