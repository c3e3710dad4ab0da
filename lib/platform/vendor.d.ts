/** swagger-ui-dist ships no types; we use only this. */
declare module "swagger-ui-dist" {
	export function getAbsoluteFSPath(): string;
}
