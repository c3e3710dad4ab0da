/**
 * What every authenticated request reads before its action runs (the account behind its token, the caller's
 * membership in the organization, the organization a store belongs to), kept for ACCESS_CACHE_TTL per node.
 *
 * Tenancy and auth broadcast `access.changed` once a change of who may see what has committed; every node clears
 * its whole cache on it (RepositoryMixin), so a removed or demoted member is refused at once, not a TTL later. The
 * TTL only bounds a change made behind the services' back (SQL by hand). A read that began before a clear is
 * answered but not kept: it cannot put back what the clear just dropped.
 */
import type { ServiceBroker } from "moleculer";
import { nodeConfig } from "../platform/node-context";

/** Most entries a node keeps; past it the cache starts over (a burst of distinct callers, not a steady state). */
const MAX_ENTRIES = 20_000;

export class AccessCache {
	private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();
	private generation = 0;

	constructor(private readonly ttlMs: number) {}

	/** The kept value of `key`, or what `load` reads (kept for the TTL unless the cache was cleared meanwhile). */
	async get<T>(key: string, load: () => Promise<T>): Promise<T> {
		if (this.ttlMs <= 0) return load();
		const kept = this.entries.get(key);
		if (kept && kept.expiresAt > Date.now()) return kept.value as T;
		const generation = this.generation;
		const value = await load();
		if (generation === this.generation) {
			if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
			this.entries.set(key, { value, expiresAt: Date.now() + this.ttlMs });
		}
		return value;
	}

	clear(): void {
		this.generation++;
		this.entries.clear();
	}
}

const caches = new WeakMap<ServiceBroker, AccessCache>();

/** This node's cache, shared by its services. */
export function nodeAccessCache(broker: ServiceBroker): AccessCache {
	let cache = caches.get(broker);
	if (!cache) {
		cache = new AccessCache(nodeConfig(broker).accessCacheTtl);
		caches.set(broker, cache);
	}
	return cache;
}
