/** Parameter schemas shared by several actions. They validate requests and feed /openapi.json alike. */
export const id = { type: "uuid", $$t: "Identifier (UUID)" } as const;

export const orgPath = { orgId: id } as const;
export const storePath = { orgId: id, storeId: id } as const;
export const cameraPath = { orgId: id, storeId: id, cameraId: id } as const;

/** IANA time zone names only ("Europe/Paris"), checked against the runtime's zone database. */
export const timezone = {
	type: "string",
	max: 64,
	$$t: "IANA time zone, e.g. Europe/Paris",
	custom(value: string, errors: { type: string; actual: unknown; expected?: unknown }[]) {
		try {
			new Intl.DateTimeFormat("en", { timeZone: value });
		} catch {
			errors.push({ type: "timezone", actual: value });
		}
		return value;
	},
	messages: { timezone: "The '{field}' field must be an IANA time zone such as Europe/Paris." },
} as const;

export const role = { type: "enum", values: ["owner", "admin", "staff"], $$t: "Role in the organization" } as const;

/** Every field optional (and without its create-time default), for PATCH. */
export const optional = <T extends Record<string, object>>(fields: T) =>
	Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { ...v, optional: true, default: undefined }])) as unknown as {
		[K in keyof T]: T[K] & { optional: true };
	};
