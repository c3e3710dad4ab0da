/** To be built. */
import type { Organization, Store } from "../api/views";
import { Empty } from "../ui";

export function NotificationChannels(_props: { org: Organization; stores: Store[] }) {
	return <Empty>Coming soon.</Empty>;
}
