/**
 * Small shared pieces: labelled fields with their API error, the loading, empty and error states, confirming a
 * deletion, and a secret shown once.
 */
import { cloneElement, type ComponentChildren, type VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api/client";

/** A label, its control (whose id must be `f-<name>`) and the API's message for that field, tied to the control. */
export function Field(props: { label: string; name: string; error?: ApiError | null; children: VNode }) {
	const message = props.error?.fieldError(props.name);
	const control = message ? cloneElement(props.children, { "aria-invalid": true, "aria-describedby": `f-${props.name}-error` }) : props.children;
	return (
		<div class="field">
			<label for={`f-${props.name}`}>{props.label}</label>
			{control}
			{message && (
				<p class="field-error" id={`f-${props.name}-error`} role="alert">
					{message}
				</p>
			)}
		</div>
	);
}

/** The form-level message: what failed (for a 422, the API's summary; each field's own message shows beside it). */
export function ErrorNote({ error }: { error: unknown }) {
	if (!error) return null;
	const message = error instanceof ApiError ? error.message : "Something went wrong. Check the connection and try again.";
	return (
		<p class="error" role="alert">
			{message}
		</p>
	);
}

/**
 * A form's last lines: what failed, the submit button (off while the form is sent), Cancel where the form can be
 * left, and whatever the form says after saving (children).
 */
export function FormEnd(props: {
	failure: unknown;
	pending: boolean;
	submit: ComponentChildren;
	disabled?: boolean;
	onCancel?: () => void;
	children?: ComponentChildren;
}) {
	return (
		<>
			<ErrorNote error={props.failure} />
			<div class="actions">
				<button type="submit" disabled={props.pending || props.disabled}>
					{props.submit}
				</button>
				{props.onCancel && (
					<button type="button" class="secondary" onClick={props.onCancel}>
						Cancel
					</button>
				)}
				{props.children}
			</div>
		</>
	);
}

export const Loading = ({ what }: { what: string }) => (
	<p class="loading" role="status">
		Loading {what}…
	</p>
);

export const Empty = ({ children }: { children: ComponentChildren }) => <div class="empty">{children}</div>;

/** Runs a form's submit, keeping its pending flag and error for the form to show. */
export function useSubmit<T>(action: () => Promise<T>, done?: (result: T) => void) {
	const [pending, setPending] = useState(false);
	const [error, setError] = useState<ApiError | null>(null);
	const [failure, setFailure] = useState<unknown>(null);
	const submit = async (e: Event) => {
		e.preventDefault();
		setPending(true);
		setError(null);
		setFailure(null);
		try {
			const result = await action();
			done?.(result);
		} catch (err) {
			if (err instanceof ApiError) setError(err);
			setFailure(err);
		} finally {
			setPending(false);
		}
	};
	return { submit, pending, error, failure };
}

export const timeOf = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });

/**
 * A destructive action asked twice in the page (not window.confirm): the first button shows what will happen
 * and the real one; focus goes to "Cancel", so Enter pressed once more does no harm.
 */
export function ConfirmAction(props: { label: string; name: string; question: string; confirm: string; onConfirm: () => Promise<unknown> }) {
	const [asking, setAsking] = useState(false);
	const [pending, setPending] = useState(false);
	const [error, setError] = useState<unknown>(null);
	const cancel = useRef<HTMLButtonElement>(null);
	useEffect(() => {
		if (asking) cancel.current?.focus();
	}, [asking]);
	const go = async () => {
		setPending(true);
		setError(null);
		try {
			await props.onConfirm();
			setAsking(false);
		} catch (err) {
			setError(err);
		} finally {
			setPending(false);
		}
	};
	if (!asking)
		return (
			<button type="button" class="secondary" aria-label={`${props.label} ${props.name}`} onClick={() => setAsking(true)}>
				{props.label}
			</button>
		);
	return (
		<div class="confirm" role="group" aria-label={`${props.label} ${props.name}?`}>
			<p>{props.question}</p>
			<div class="actions">
				<button type="button" class="danger" disabled={pending} onClick={go}>
					{props.confirm}
				</button>
				<button type="button" class="secondary" ref={cancel} onClick={() => (setAsking(false), setError(null))}>
					Cancel
				</button>
			</div>
			<ErrorNote error={error} />
		</div>
	);
}

/**
 * A secret the server gives once (a service token, a webhook's signing secret): shown with a copy button until
 * the person says they saved it or leaves the screen. Focus moves to it so that it is not missed.
 */
export function OnceSecret(props: { title: string; label: string; secret: string; children?: ComponentChildren; onDone: () => void }) {
	const [copied, setCopied] = useState<boolean | null>(null);
	const input = useRef<HTMLInputElement>(null);
	useEffect(() => {
		setCopied(null);
		input.current?.focus();
	}, [props.secret]);
	const copy = () =>
		navigator.clipboard.writeText(props.secret).then(
			() => setCopied(true),
			() => setCopied(false),
		);
	return (
		<div class="card once-secret" role="region" aria-labelledby="once-secret-title">
			<h3 id="once-secret-title">{props.title}</h3>
			<p class="once-warning">
				<strong>Copy it now: you will not see it again.</strong> Vigil keeps only a fingerprint of it; if it is lost, make a new one.
			</p>
			{props.children}
			<label for="once-secret">{props.label}</label>
			<div class="secret-row">
				<input id="once-secret" ref={input} readOnly spellcheck={false} autoComplete="off" value={props.secret} onFocus={(e) => e.currentTarget.select()} />
				<button type="button" onClick={copy}>
					Copy
				</button>
			</div>
			<p class="muted" role="status">
				{copied === true ? "Copied to the clipboard." : copied === false ? "The browser did not allow copying: select the text and copy it." : ""}
			</p>
			<button type="button" class="secondary" onClick={props.onDone}>
				I have saved it
			</button>
		</div>
	);
}
