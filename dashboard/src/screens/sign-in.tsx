/** Sign in with email and password: the gateway answers with httpOnly session cookies. */
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { ErrorNote, Field, useSubmit } from "../ui";

export function SignIn({ onSignedIn }: { onSignedIn: () => void; invited?: boolean }) {
	const [email, setEmail] = useState("");
	const [password, setPassword] = useState("");
	const { submit, pending, error, failure } = useSubmit(() => api("post", "/api/v1/auth/login", { body: { email, password } }), onSignedIn);
	return (
		<main class="sign-in">
			<h1>Vigil</h1>
			<form onSubmit={submit} aria-label="Sign in">
				<h2>Sign in</h2>
				<Field label="Email" name="email" error={error}>
					<input id="f-email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
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
		</main>
	);
}
