// Small building blocks shared by the pages.
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError, messageOf } from "../lib/api.ts";
import type { JobStatus } from "../lib/types.ts";

export function StatusBadge({ status }: { status: JobStatus }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}

/** An error from the API or the browser, shown (never swallowed) with the field list when there is one. */
export function ErrorBanner({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const details = error instanceof ApiError ? error.fieldErrors() : {};
  return (
    <div class="banner banner-error" role="alert">
      <p>{messageOf(error)}</p>
      {Object.keys(details).length > 1 && (
        <ul class="banner-list">
          {Object.entries(details).map(([field, message]) => (
            <li key={field}>
              <code>{field}</code>: {message}
            </li>
          ))}
        </ul>
      )}
      {onDismiss && (
        <button type="button" class="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <div>{children}</div>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

type FieldProps = {
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  children: (props: { id: string; "aria-invalid": boolean; "aria-describedby"?: string }) => JSX.Element;
};

/** A labelled control with its hint and its error (from the form's own check or the API's 422). */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class={`field${error ? " field-invalid" : ""}`}>
      <label for={id}>{label}</label>
      {children({
        id,
        "aria-invalid": Boolean(error),
        ...(described ? { "aria-describedby": described } : {}),
      })}
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} class="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

/** Field errors from a failed call: the API's 422 details by field name. */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  return error instanceof ApiError ? error.fieldErrors() : {};
}

type ConfirmProps = {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  /** When set, the confirm button stays disabled until this exact text is typed. */
  typeToConfirm?: string | undefined;
  danger?: boolean;
  onConfirm: () => Promise<boolean> | boolean;
  onClose: () => void;
  busy?: boolean;
  error?: unknown;
};

/**
 * Opens a native <dialog> as a modal while the component is mounted, and closes it on unmount: a
 * dialog removed while still open drops keyboard focus to <body> instead of the control that
 * opened it.
 */
export function useModal(ref: { current: HTMLDialogElement | null }): void {
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, [ref]);
}

/** A modal confirmation (the native <dialog>: focus is trapped and Escape closes it). */
export function ConfirmDialog(props: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState("");
  const inputId = useId();
  useModal(ref);
  const ready = !props.typeToConfirm || typed === props.typeToConfirm;
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={`${inputId}-title`}
      onClose={props.onClose}
      onCancel={props.onClose}
    >
      <form
        method="dialog"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!ready) return;
          if (await props.onConfirm()) props.onClose();
        }}
      >
        <h2 id={`${inputId}-title`}>{props.title}</h2>
        <div>{props.children}</div>
        {props.typeToConfirm && (
          <div class="field">
            <label for={inputId}>
              Type <code>{props.typeToConfirm}</code> to confirm
            </label>
            <input
              id={inputId}
              autocomplete="off"
              value={typed}
              onInput={(e) => setTyped(e.currentTarget.value)}
            />
          </div>
        )}
        <ErrorBanner error={props.error} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class={props.danger ? "danger" : "primary"} disabled={!ready || props.busy}>
            {props.busy ? "Working…" : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Cursor paging: the API answers newest first with `next_cursor`; we keep the trail to go back. */
export function Pager({
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
}: {
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}) {
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" onClick={onPrevious} disabled={!hasPrevious}>
        ← Newer
      </button>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Older →
      </button>
    </nav>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · MongoDB backup manager`;
  }, [title]);
  return (
    <header class="page-header">
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {children && <div class="page-actions">{children}</div>}
    </header>
  );
}
