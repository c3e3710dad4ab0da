/**
 * Password rules (length over complexity, as NIST SP 800-63B advises, plus a check against known and guessable
 * passwords) with clear, per-rule errors. Hashing is native bcrypt: its async calls run on libuv's thread pool,
 * so a login never stalls the event loop. Hashes written by bcryptjs ($2a$/$2b$) verify unchanged.
 */
import bcrypt from "bcrypt";
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";

export const PASSWORD_MIN_LENGTH = 10;
/** bcrypt ignores everything past 72 bytes: refuse longer rather than silently truncate. */
export const PASSWORD_MAX_BYTES = 72;

/** Common-password and name lists plus keyboard patterns, bundled in the package: no network needed. */
const strength = new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });

export interface PasswordProblem {
	field: string;
	message: string;
	type: string;
}

/** `minStrength` is a zxcvbn score (0..4); the email's parts count as known words, as an attacker would try them. */
export function passwordProblems(password: string, email: string, field = "password", minStrength = 3): PasswordProblem[] {
	const problems: PasswordProblem[] = [];
	if (password.length < PASSWORD_MIN_LENGTH) problems.push({ field, type: "passwordTooShort", message: `Use at least ${PASSWORD_MIN_LENGTH} characters.` });
	if (Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES)
		problems.push({ field, type: "passwordTooLong", message: `Use at most ${PASSWORD_MAX_BYTES} bytes (bcrypt ignores the rest).` });
	if (/^(.)\1*$/.test(password)) problems.push({ field, type: "passwordRepetitive", message: "A single repeated character is too easy to guess." });
	const local = email.split("@")[0]?.toLowerCase();
	if (local && local.length >= 3 && password.toLowerCase().includes(local))
		problems.push({ field, type: "passwordContainsEmail", message: "The password must not contain your email name." });
	// Only judged once the cheap rules pass, so each answer names one clear reason.
	if (
		!problems.length &&
		strength.check(
			password,
			email
				.toLowerCase()
				.split(/[@.+_-]/)
				.filter((w) => w.length >= 3),
		).score < minStrength
	)
		problems.push({
			field,
			type: "passwordCommon",
			message:
				"This password is common or easy to guess (a known password, word or pattern with a few digits or symbols); choose a longer or less predictable one.",
		});
	return problems;
}

export const hashPassword = (password: string, cost: number): Promise<string> => bcrypt.hash(password, cost);
export const verifyPassword = (password: string, hash: string): Promise<boolean> => bcrypt.compare(password, hash);

const dummyHashes = new Map<number, Promise<string>>();
/**
 * Compared against when the account does not exist, at the same cost as real hashes, so a wrong email takes
 * as long as a wrong password and response times do not tell which accounts exist.
 */
export function dummyHash(cost: number): Promise<string> {
	let hash = dummyHashes.get(cost);
	if (!hash) dummyHashes.set(cost, (hash = bcrypt.hash("vigil-timing-equaliser", cost)));
	return hash;
}
