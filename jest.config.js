/** One runner for the whole suite: unit tests (no broker) and integration tests (brokers, HTTP, database). */
module.exports = {
	testEnvironment: "node",
	roots: ["<rootDir>/test"],
	testMatch: ["**/*.test.ts"],
	transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
	testTimeout: 60000,
	// Integration tests start brokers and servers; they must all be closed at the end of each file.
	detectOpenHandles: false,
};
