/** Password rules (length over complexity, as NIST SP 800-63B advises) with clear, per-rule errors. */
import bcrypt from "bcryptjs";

export const PASSWORD_MIN_LENGTH = 10;
/** bcrypt ignores everything past 72 bytes: refuse longer rather than silently truncate. */
export const PASSWORD_MAX_BYTES = 72;

const COMMON = new Set(["password", "password1", "password12", "password123", "123456789", "1234567890", "qwertyuiop", "iloveyou12", "letmein123", "welcome123", "admin12345", "changeme12", "vigilvigil"]);

export interface PasswordProblem {
	field: string;
	message: string;
	type: string;
}

export function passwordProblems(password: string, email: string, field = "password"): PasswordProblem[] {
	const problems: PasswordProblem[] = [];
	if (password.length < PASSWORD_MIN_LENGTH) problems.push({ field, type: "passwordTooShort", message: `Use at least ${PASSWORD_MIN_LENGTH} characters.` });
	if (Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES) problems.push({ field, type: "passwordTooLong", message: `Use at most ${PASSWORD_MAX_BYTES} bytes (bcrypt ignores the rest).` });
	if (/^(.)\1*$/.test(password)) problems.push({ field, type: "passwordRepetitive", message: "A single repeated character is too easy to guess." });
	if (COMMON.has(password.toLowerCase())) problems.push({ field, type: "passwordCommon", message: "This password is among the most common ones; choose another." });
	const local = email.split("@")[0]?.toLowerCase();
	if (local && local.length >= 3 && password.toLowerCase().includes(local)) problems.push({ field, type: "passwordContainsEmail", message: "The password must not contain your email name." });
	return problems;
}

export const hashPassword = (password: string, cost: number): Promise<string> => bcrypt.hash(password, cost);
export const verifyPassword = (password: string, hash: string): Promise<boolean> => bcrypt.compare(password, hash);

const dummyHashes = new Map<number, string>();
/**
 * Compared against when the account does not exist, at the same cost as real hashes, so a wrong email takes
 * as long as a wrong password and response times do not tell which accounts exist.
 */
export function dummyHash(cost: number): string {
	let hash = dummyHashes.get(cost);
	if (!hash) dummyHashes.set(cost, (hash = bcrypt.hashSync("vigil-timing-equaliser", cost)));
	return hash;
}
