/** To be built. */
import type { Me } from "../api/views";
import { Empty } from "../ui";

export function Operations(_props: { me: Me }) {
	return <Empty>Coming soon.</Empty>;
}
