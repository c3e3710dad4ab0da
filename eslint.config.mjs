import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
	{ ignores: ["dist/", "dashboard/dist/", "node_modules/", "data/", "coverage/", "jest.config.js"] },
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
		// Services reach the database only through the tenant-scoped layer (mixins/repository.mixin.ts):
		// this.data(ctx), this.tenantData(scope), or this.unscoped("why") for work that spans tenants.
		files: ["services/**/*.ts"],
		rules: {
			"no-restricted-syntax": [
				"error",
				{
					selector: "MemberExpression[object.type='ThisExpression'][property.name='db']",
					message: 'Use this.data(ctx) (the caller\'s tenant), this.tenantData(scope), or this.unscoped("why").',
				},
				{
					selector:
						"CallExpression[callee.property.name=/^(getRepository|createQueryBuilder|query)$/]:not([callee.object.callee.property.name='unscoped']):not([callee.object.name='system'])",
					message:
						'Raw repositories and SQL only on this.unscoped("why") (or a `system` handle from it); tenant data goes through this.data(ctx).repo(Entity).',
				},
			],
		},
	},
	{
		// The command line talks to a person on a terminal.
		files: ["bin/**/*.ts"],
		rules: { "no-console": "off" },
	},
);
