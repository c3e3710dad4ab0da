/** Small shared pieces: labelled fields with their API error, the loading, empty and error states, and confirming a deletion. */
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

/** The form-level message: what failed, unless every problem is already shown next to its field. */
export function ErrorNote({ error }: { error: unknown }) {
	if (!error) return null;
	const message = error instanceof ApiError ? error.message : "Something went wrong. Check the connection and try again.";
	return (
		<p class="error" role="alert">
			{message}
		</p>
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
