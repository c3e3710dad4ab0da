/** To be built. */
import type { Me, Organization, Store } from "../api/views";
import { Empty } from "../ui";

export function Members(_props: { me: Me; org: Organization; stores: Store[] }) {
	return <Empty>Coming soon.</Empty>;
}
