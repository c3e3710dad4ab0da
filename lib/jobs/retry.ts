/** When a failed job is tried again. */
import type { JobQueueSettings } from "./settings";

/**
 * Delay before the attempt after `attempt` (1 = the first try failed): exponential from retryBaseMs, capped at
 * retryMaxMs, with "equal jitter" (a random point in the upper half). Jitter spreads the retries of jobs that
 * failed together; keeping the lower half fixed means each delay is at least as long as the one before
 * (until the cap, where delays fall between retryMaxMs / 2 and retryMaxMs).
 */
export function retryDelayMs(attempt: number, settings: Pick<JobQueueSettings, "retryBaseMs" | "retryMaxMs">, random: () => number = Math.random): number {
	const exponential = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, attempt - 1));
	return Math.round(exponential / 2 + random() * (exponential / 2));
}
