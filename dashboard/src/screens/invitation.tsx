/**
 * Accepting an invitation from its link (#/invitations/<token>), once signed in. The token is all the page has
 * (which organization it opens is known only once accepted); a used, expired, withdrawn or someone else's
 * invitation shows the API's message.
 */
import { api } from "../api/client";
import type { Organization } from "../api/views";
import { ErrorNote, useSubmit } from "../ui";
import "./invitation.css";

/** `onAccepted` gets the organization joined, so the page can open it. */
export function AcceptInvitation({ token, onAccepted }: { token: string; onAccepted: (org: Organization) => void }) {
	const { submit, pending, failure } = useSubmit(
		() => api<Organization, "post", "/api/v1/invitations/accept">("post", "/api/v1/invitations/accept", { body: { token } }),
		onAccepted,
	);
	return (
		<form class="card invitation-accept" onSubmit={submit} aria-labelledby="invitation-title">
			<h1 id="invitation-title">You were invited to join an organization</h1>
			<p>Accept to see its stores with the role the invitation gives you. It works for the email address it was sent to, once.</p>
			<ErrorNote error={failure} />
			<div class="actions">
				<button type="submit" disabled={pending}>
					{pending ? "Accepting…" : "Accept invitation"}
				</button>
				<a href="#/cameras">Not now</a>
			</div>
		</form>
	);
}
