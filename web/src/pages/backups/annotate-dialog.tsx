// Name and notes of a backup: what it is for ("before the 3.2 migration"), kept with the record.
import { useRef, useState } from "preact/hooks";
import { ErrorBanner, Field, fieldErrorsOf, useModal } from "../../components/ui.tsx";
import { useApp } from "../../lib/context.ts";
import { useAction } from "../../lib/hooks.ts";
import type { Backup } from "../../lib/types.ts";

export function AnnotateDialog({
  backup,
  onClose,
  onSaved,
}: {
  backup: Backup;
  onClose: () => void;
  onSaved: (backup: Backup) => void;
}) {
  const { api } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState(backup.name ?? "");
  const [notes, setNotes] = useState(backup.notes ?? "");
  useModal(ref);
  const save = useAction(async () => {
    // An emptied field clears it (null), rather than storing an empty string.
    const updated = await api.patch("/api/backups/{id}", {
      params: { id: backup.id },
      body: { name: name.trim() || null, notes: notes.trim() ? notes : null },
    });
    onSaved(updated);
  });
  const problems = fieldErrorsOf(save.error);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="annotate-title" onClose={onClose} onCancel={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (await save.run()) onClose();
        }}
      >
        <h2 id="annotate-title">Name and notes of {backup.database}</h2>
        <Field label="Name" error={problems.name}>
          {(props) => (
            <input {...props} maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="Notes" error={problems.notes}>
          {(props) => (
            <textarea
              {...props}
              maxLength={4000}
              value={notes}
              onInput={(e) => setNotes(e.currentTarget.value)}
            />
          )}
        </Field>
        <ErrorBanner error={Object.keys(problems).length ? null : save.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={save.busy}>
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}
