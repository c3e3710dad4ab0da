/** Small shared pieces: labelled fields with their API error, and the loading, empty and error states. */
import { cloneElement, type ComponentChildren, type VNode } from "preact";
import { useState } from "preact/hooks";
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
