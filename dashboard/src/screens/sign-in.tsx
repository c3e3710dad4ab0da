/**
 * Sign in with email and password, or create an account: either way the gateway answers with httpOnly session
 * cookies. Opened from an invitation link, it says why; the link stays in the URL, so the invitation shows next.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import { ErrorNote, Field, useSubmit } from "../ui";
import "./sign-in.css";

export function SignIn({ onSignedIn, invited }: { onSignedIn: () => void; invited?: boolean }) {
	const [creating, setCreating] = useState(false);
	const [email, setEmail] = useState("");
	// After switching between the two forms the keyboard continues in the new one, not at the top of the page.
	const switched = useRef(false);
	useEffect(() => {
		if (switched.current) document.getElementById("f-email")?.focus();
		switched.current = true;
	}, [creating]);
	return (
		<main class="sign-in">
			<h1>Vigil</h1>
			{invited && (
				<p class="invited" role="note">
					You were invited to an organization on Vigil. Sign in, or create an account with the email address the invitation was sent to, to accept it.
				</p>
			)}
			{creating ? (
				<CreateAccount email={email} onEmail={setEmail} onCreated={onSignedIn} onSignIn={() => setCreating(false)} />
			) : (
				<SignInForm email={email} onEmail={setEmail} onSignedIn={onSignedIn} onCreate={() => setCreating(true)} />
			)}
		</main>
	);
}

function SignInForm(props: { email: string; onEmail: (email: string) => void; onSignedIn: () => void; onCreate: () => void }) {
	const [password, setPassword] = useState("");
	const { submit, pending, error, failure } = useSubmit(() => api("post", "/api/v1/auth/login", { body: { email: props.email, password } }), props.onSignedIn);
	return (
		<>
			<form onSubmit={submit} aria-label="Sign in">
				<h2>Sign in</h2>
				<Field label="Email" name="email" error={error}>
					<input id="f-email" type="email" autocomplete="username" required value={props.email} onInput={(e) => props.onEmail(e.currentTarget.value)} />
				</Field>
				<Field label="Password" name="password" error={error}>
					<input
						id="f-password"
						type="password"
						autocomplete="current-password"
						required
						value={password}
						onInput={(e) => setPassword(e.currentTarget.value)}
					/>
				</Field>
				<ErrorNote error={failure} />
				<button type="submit" disabled={pending}>
					{pending ? "Signing in…" : "Sign in"}
				</button>
			</form>
			<p class="switch">
				New to Vigil?{" "}
				<button type="button" class="link" onClick={props.onCreate}>
					Create an account
				</button>
			</p>
		</>
	);
}

function CreateAccount(props: { email: string; onEmail: (email: string) => void; onCreated: () => void; onSignIn: () => void }) {
	const [displayName, setDisplayName] = useState("");
	const [password, setPassword] = useState("");
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api("post", "/api/v1/auth/register", {
				body: { email: props.email, password, ...(displayName.trim() && { displayName: displayName.trim() }) },
			}),
		props.onCreated,
	);
	return (
		<>
			<form onSubmit={submit} aria-label="Create an account">
				<h2>Create an account</h2>
				<Field label="Email" name="email" error={error}>
					<input id="f-email" type="email" autocomplete="email" required value={props.email} onInput={(e) => props.onEmail(e.currentTarget.value)} />
				</Field>
				<Field label="Your name (optional)" name="displayName" error={error}>
					<input id="f-displayName" autocomplete="name" maxLength={100} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
				</Field>
				<Field label="Password (at least 10 characters; a few unrelated words work well)" name="password" error={error}>
					<input id="f-password" type="password" autocomplete="new-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
				</Field>
				<ErrorNote error={failure} />
				<button type="submit" disabled={pending}>
					{pending ? "Creating your account…" : "Create account"}
				</button>
			</form>
			<p class="switch">
				Already have an account?{" "}
				<button type="button" class="link" onClick={props.onSignIn}>
					Sign in instead
				</button>
			</p>
		</>
	);
}
