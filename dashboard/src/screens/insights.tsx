/** To be built. */
import type { Store } from "../api/views";
import { Empty } from "../ui";

export function Insights(_props: { store: Store }) {
	return <Empty>Coming soon.</Empty>;
}
