/**
 * Webhook URLs are chosen by organization admins, so a webhook must not become a way to reach what only the
 * server can reach (its loopback, the cluster network, cloud metadata endpoints). A URL whose host is or
 * resolves to a private, loopback, link-local or otherwise non-public address is refused unless the operator
 * allows it (NOTIFY_ALLOW_PRIVATE_URLS, for receivers on one's own network).
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
	["0.0.0.0", 8],
	["10.0.0.0", 8],
	["100.64.0.0", 10],
	["127.0.0.0", 8],
	["169.254.0.0", 16],
	["172.16.0.0", 12],
	["192.0.0.0", 24],
	["192.168.0.0", 16],
	["198.18.0.0", 15],
	["224.0.0.0", 3],
] as const)
	NON_PUBLIC.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
	["::", 127],
	["fc00::", 7],
	["fe80::", 10],
	["ff00::", 8],
	["64:ff9b::", 96],
] as const)
	NON_PUBLIC.addSubnet(net, bits, "ipv6");

/** True for an address a public webhook receiver never has. IPv4-mapped IPv6 addresses are judged as IPv4. */
export function isNonPublicAddress(address: string): boolean {
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
	if (mapped) return NON_PUBLIC.check(mapped[1], "ipv4");
	const family = isIP(address);
	if (family === 0) return true;
	return NON_PUBLIC.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * The non-public address the URL's host is or resolves to, or null when every address is public. A host that
 * does not resolve is not judged here (sending to it fails anyway, and is retried).
 */
export async function nonPublicTarget(url: string, resolve: typeof lookup = lookup): Promise<string | null> {
	const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
	if (isIP(host)) return isNonPublicAddress(host) ? host : null;
	if (host === "localhost" || host.endsWith(".localhost")) return host;
	const addresses = await resolve(host, { all: true, verbatim: true }).catch(() => []);
	return addresses.find((a) => isNonPublicAddress(a.address))?.address ?? null;
}
