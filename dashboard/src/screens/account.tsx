/**
 * Your account: who you are, changing your password (the API signs out every other session and keeps this one),
 * and signing out everywhere (every session ends, this one too).
 */
import { useState } from "preact/hooks";
import { api } from "../api/client";
import type { Me } from "../api/views";
import { ErrorNote, Field, useSubmit } from "../ui";
import "./account.css";

export function Account({ me }: { me: Me }) {
	return (
		<section class="account" aria-labelledby="account-title">
			<h1 id="account-title">Your account</h1>
			<div class="card">
				<dl class="who-am-i">
					<div>
						<dt>Email</dt>
						<dd>{me.email}</dd>
					</div>
					<div>
						<dt>Name</dt>
						<dd>{me.displayName ?? <span class="muted">Not given</span>}</dd>
					</div>
					{me.superAdmin && (
						<div>
							<dt>Access</dt>
							<dd>Super-admin: every organization</dd>
						</div>
					)}
				</dl>
			</div>
			<ChangePassword />
			<SignOutEverywhere />
		</section>
	);
}

function ChangePassword() {
	const [currentPassword, setCurrentPassword] = useState("");
	const [newPassword, setNewPassword] = useState("");
	const [changed, setChanged] = useState(false);
	const { submit, pending, error, failure } = useSubmit(
		() => (setChanged(false), api("post", "/api/v1/auth/password", { body: { currentPassword, newPassword } })),
		() => (setChanged(true), setCurrentPassword(""), setNewPassword("")),
	);
	return (
		<form class="card" onSubmit={submit} aria-label="Change your password">
			<h2>Change your password</h2>
			<p class="muted">Every other session of yours (other browsers and devices) is signed out; this one stays signed in.</p>
			<Field label="Current password" name="currentPassword" error={error}>
				<input
					id="f-currentPassword"
					type="password"
					autocomplete="current-password"
					required
					value={currentPassword}
					onInput={(e) => setCurrentPassword(e.currentTarget.value)}
				/>
			</Field>
			<Field label="New password (at least 10 characters; a few unrelated words work well)" name="newPassword" error={error}>
				<input
					id="f-newPassword"
					type="password"
					autocomplete="new-password"
					required
					value={newPassword}
					onInput={(e) => setNewPassword(e.currentTarget.value)}
				/>
			</Field>
			{/* A wrong current password is all said next to its field. */}
			<ErrorNote error={error?.fieldError("currentPassword") ? null : failure} />
			<p class="success" role="status">
				{changed && "Your password was changed. Your other sessions were signed out; this one stays signed in."}
			</p>
			<button type="submit" disabled={pending}>
				{pending ? "Changing…" : "Change password"}
			</button>
		</form>
	);
}

function SignOutEverywhere() {
	// The cookies are cleared too: a reload finds no session and shows the sign-in form, with nothing left open.
	const { submit, pending, failure } = useSubmit(
		() => api("post", "/api/v1/auth/logout-all"),
		() => location.reload(),
	);
	return (
		<form class="card" onSubmit={submit} aria-label="Sign out everywhere">
			<h2>Sign out everywhere</h2>
			<p>Ends every session of yours: other browsers and devices, open alert screens, and this page too. Use it if a device was lost or shared.</p>
			<ErrorNote error={failure} />
			<button type="submit" class="secondary" disabled={pending}>
				Sign out everywhere
			</button>
		</form>
	);
}
