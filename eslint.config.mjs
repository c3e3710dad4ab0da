import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
	{ ignores: ["dist/", "node_modules/", "data/", "coverage/", "jest.config.js"] },
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		languageOptions: { ecmaVersion: 2022, sourceType: "module" },
		rules: {
			"@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
			"no-console": ["error", { allow: ["warn", "error"] }],
		},
	},
	{
		files: ["test/**/*.ts", "bench/**/*.ts"],
		rules: { "@typescript-eslint/no-explicit-any": "off", "no-console": "off" },
	},
	{
		// The command line talks to a person on a terminal.
		files: ["bin/**/*.ts"],
		rules: { "no-console": "off" },
	},
);
