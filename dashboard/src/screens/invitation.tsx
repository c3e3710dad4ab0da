/** To be built: accepting an invitation from its link (#/invitations/<token>), once signed in. */
import { Empty } from "../ui";

export function AcceptInvitation(_props: { token: string; onAccepted: () => void }) {
	return <Empty>Coming soon.</Empty>;
}
