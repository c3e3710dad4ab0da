// The dashboard's own build: static files in dashboard/dist that the gateway serves at `/`.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
	root: fileURLToPath(new URL(".", import.meta.url)),
	base: "/",
	oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
	build: {
		outDir: "dist",
		emptyOutDir: true,
		// The gateway's content security policy allows no inline script: keep every byte of script in hashed files.
		modulePreload: { polyfill: false },
		assetsInlineLimit: 0,
	},
});
