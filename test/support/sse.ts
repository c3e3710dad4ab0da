/** A minimal Server-Sent Events reader for tests: collects events until closed. */
export interface SseEvent {
	id?: string;
	event?: string;
	data: string;
}

export class SseClient {
	readonly events: SseEvent[] = [];
	status = 0;
	private readonly abort = new AbortController();
	private done: Promise<void> = Promise.resolve();

	constructor(
		private readonly url: string,
		private readonly headers: Record<string, string>,
	) {}

	async open(): Promise<this> {
		const res = await fetch(this.url, { headers: { accept: "text/event-stream", ...this.headers }, signal: this.abort.signal });
		this.status = res.status;
		if (!res.body) return this;
		const reader = res.body.getReader();
		const decoder = new TextDecoder();
		this.done = (async () => {
			let buffer = "";
			try {
				for (;;) {
					const { value, done } = await reader.read();
					if (done) break;
					buffer += decoder.decode(value, { stream: true });
					let cut: number;
					while ((cut = buffer.indexOf("\n\n")) >= 0) {
						const block = buffer.slice(0, cut);
						buffer = buffer.slice(cut + 2);
						const event: SseEvent = { data: "" };
						for (const line of block.split("\n")) {
							if (line.startsWith("id: ")) event.id = line.slice(4);
							else if (line.startsWith("event: ")) event.event = line.slice(7);
							else if (line.startsWith("data: ")) event.data += line.slice(6);
						}
						if (event.event) this.events.push(event);
					}
				}
			} catch {
				/* aborted */
			}
		})();
		return this;
	}

	alerts<T = Record<string, unknown>>(): T[] {
		return this.events.filter((e) => e.event === "alert").map((e) => JSON.parse(e.data) as T);
	}

	async close(): Promise<void> {
		this.abort.abort();
		await this.done;
	}
}
