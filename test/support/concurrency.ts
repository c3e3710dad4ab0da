/** Job handlers for two "nodes" that record how many jobs ran at once, per node and in total. */
export function concurrencyProbe(jobMs: number) {
	const current = { a: 0, b: 0 };
	const max = { a: 0, b: 0 };
	const totals = { now: 0, max: 0 };
	const handler = (id: "a" | "b") => async () => {
		current[id]++;
		totals.now++;
		max[id] = Math.max(max[id], current[id]);
		totals.max = Math.max(totals.max, totals.now);
		await new Promise((r) => setTimeout(r, jobMs));
		current[id]--;
		totals.now--;
	};
	return { handler, max, maxTotal: () => totals.max };
}
