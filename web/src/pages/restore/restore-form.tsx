// "New restore": pick a completed backup, where it goes and how. The defaults never overwrite
// (the target is "<db>_restored"), and restoring over a database that exists asks for its name.

import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import {
  ConfirmDialog,
  EmptyState,
  ErrorBanner,
  Field,
  fieldErrorsOf,
  Loading,
} from "../../components/ui.tsx";
import { messageOf } from "../../lib/api.ts";
import { useApp } from "../../lib/context.ts";
import { formatBytes, formatTime } from "../../lib/format.ts";
import { useAction, useLoad } from "../../lib/hooks.ts";
import type { Backup, Restore, Server } from "../../lib/types.ts";
import { CollectionPicker, DropOption } from "./form-parts.tsx";
import {
  collectionsProblem,
  databaseNameProblem,
  existingDatabaseNames,
  parseCollectionList,
  restoredName,
} from "./names.ts";

interface Props {
  servers: Server[];
  serverName: (id: string) => string;
  onStarted: (restore: Restore) => void;
}

interface BackupChoices {
  items: Backup[];
  /** Why the backup named in the URL (?backup=) cannot be offered, if it cannot. */
  linkProblem: string | null;
}

type Errors = Record<string, string>;

export function RestoreForm({ servers, serverName, onStarted }: Props) {
  const { api } = useApp();
  const wanted = useLocation().query.backup ?? "";

  const choices = useLoad<BackupChoices>(async () => {
    const page = await api.get("/api/backups", { query: { status: "completed", limit: 100 } });
    const items = page.items;
    let linkProblem: string | null = null;
    // A link from the Backups page may name a backup older than the newest 100: fetch it alone.
    if (wanted && !items.some((b) => b.id === wanted)) {
      try {
        const linked = await api.get("/api/backups/{id}", { params: { id: wanted } });
        if (linked.status === "completed") items.push(linked);
        else linkProblem = `The linked backup is ${linked.status}: only a completed backup can be restored.`;
      } catch (error) {
        linkProblem = `The linked backup could not be loaded: ${messageOf(error)}`;
      }
    }
    return { items, linkProblem };
  }, [wanted]);

  const [backupId, setBackupId] = useState("");
  const [targetServerId, setTargetServerId] = useState("");
  const [targetDatabase, setTargetDatabase] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const [collectionsText, setCollectionsText] = useState("");
  const [drop, setDrop] = useState(false);
  const [clientErrors, setClientErrors] = useState<Errors>({});
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [started, setStarted] = useState<Restore | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [focusInvalid, setFocusInvalid] = useState(0);

  const backups = choices.data?.items ?? [];
  const backup = backups.find((b) => b.id === backupId);
  const collectionNames = backup?.collections ? Object.keys(backup.collections).sort() : null;

  /** A new backup brings its own defaults: its server, "<db>_restored", all collections. */
  const choose = (next: Backup | undefined) => {
    setBackupId(next?.id ?? "");
    if (!next) return;
    const ownServer = servers.some((s) => s.id === next.server_id);
    setTargetServerId(ownServer ? next.server_id : (servers[0]?.id ?? ""));
    setTargetDatabase(restoredName(next.database));
    setPicked([]);
    setCollectionsText("");
    setDrop(false);
    setClientErrors({});
    start.clearError();
  };

  // Preselect once the list is here: the linked backup, else the newest. The fields are not rendered
  // until this has run (see below), so nothing typed into them can be overwritten by these defaults.
  useEffect(() => {
    if (!choices.data) return;
    if (backups.some((b) => b.id === backupId)) return;
    choose(backups.find((b) => b.id === wanted) ?? backups[0]);
  }, [choices.data, servers]);

  // After a failed check, move focus to the first field that needs fixing.
  useEffect(() => {
    if (focusInvalid === 0) return;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusInvalid]);

  const chosenCollections = collectionNames ? picked : parseCollectionList(collectionsText);

  const start = useAction(async () => {
    if (!backup) return;
    const restore = await api.post("/api/restore", {
      body: {
        backup_id: backup.id,
        target_server_id: targetServerId,
        target_database: targetDatabase,
        ...(chosenCollections.length > 0 ? { collections: chosenCollections } : {}),
        drop,
      },
    });
    setStarted(restore);
    onStarted(restore);
  });

  const validate = (): Errors => {
    const errors: Errors = {};
    if (!backup) errors.backup_id = "Choose a backup.";
    if (!targetServerId) errors.target_server_id = "Choose the server to restore to.";
    const nameProblem = databaseNameProblem(targetDatabase);
    if (nameProblem) errors.target_database = nameProblem;
    const collectionProblem = collectionsProblem(chosenCollections);
    if (collectionProblem) errors.collections = collectionProblem;
    // The API refuses this too (409); saying it here spares typing the name first.
    if (backup && !drop && targetServerId === backup.server_id && targetDatabase === backup.database) {
      errors.drop =
        "Restoring over the source database itself needs “Drop each collection before restoring it”: its collections are replaced.";
    }
    return errors;
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setStarted(null);
    setCheckError(null);
    start.clearError();
    const errors = validate();
    setClientErrors(errors);
    if (Object.keys(errors).length > 0) {
      setFocusInvalid((n) => n + 1);
      return;
    }
    setChecking(true);
    try {
      const existing = await existingDatabaseNames(api, targetServerId);
      if (existing.includes(targetDatabase)) {
        setConfirming(true);
        return;
      }
    } catch (error) {
      setCheckError(
        new Error(
          `Could not check whether ${targetDatabase} already exists on ${serverName(targetServerId)}: ${messageOf(error)}`,
        ),
      );
      return;
    } finally {
      setChecking(false);
    }
    const ok = await start.run();
    if (!ok) setFocusInvalid((n) => n + 1);
  };

  if (choices.error) return <ErrorBanner error={choices.error} />;
  if (!choices.data) return <Loading what="backups" />;
  if (backups.length === 0) {
    return (
      <>
        {choices.data.linkProblem && <ErrorBanner error={choices.data.linkProblem} />}
        <EmptyState title="No completed backup to restore yet">
          Back up a database on the <a href="/backups">Backups page</a>, then come back here to restore it.
        </EmptyState>
      </>
    );
  }

  // The list is here but the preselection above has not run yet: one frame at most.
  if (!backup) return <Loading what="backups" />;

  const apiErrors = fieldErrorsOf(start.error);
  const errorOf = (field: string) => clientErrors[field] ?? apiErrors[field];
  const targetName = serverName(targetServerId);

  return (
    <>
      <form
        ref={formRef}
        class="restore-form"
        noValidate
        onSubmit={submit}
        aria-labelledby="new-restore-title"
      >
        <h2 id="new-restore-title">New restore</h2>
        {choices.data.linkProblem && <ErrorBanner error={choices.data.linkProblem} />}
        <Field
          label="Backup"
          error={errorOf("backup_id")}
          hint="Completed backups, newest first (the latest 100)."
        >
          {(field) => (
            <select
              {...field}
              value={backupId}
              onChange={(e) => choose(backups.find((b) => b.id === e.currentTarget.value))}
            >
              {backups.map((b) => (
                <option key={b.id} value={b.id}>
                  {`${b.database} on ${serverName(b.server_id)} — ${formatTime(b.finished_at ?? b.created_at)} (${formatBytes(b.size_bytes)})`}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div class="form-grid">
          <Field label="Target server" error={errorOf("target_server_id")}>
            {(field) => (
              <select
                {...field}
                value={targetServerId}
                onChange={(e) => setTargetServerId(e.currentTarget.value)}
              >
                {targetServerId === "" && <option value="">Choose a server</option>}
                {servers.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Target database"
            error={errorOf("target_database")}
            hint={
              'A new name keeps the original untouched. 1–63 characters, none of / \\ . space " $ * < > : | ?'
            }
          >
            {(field) => (
              <input
                {...field}
                value={targetDatabase}
                autocomplete="off"
                spellcheck={false}
                maxLength={200}
                onInput={(e) => setTargetDatabase(e.currentTarget.value)}
              />
            )}
          </Field>
        </div>
        {collectionNames ? (
          <CollectionPicker
            names={collectionNames}
            counts={backup.collections ?? {}}
            picked={picked}
            onChange={setPicked}
            error={errorOf("collections")}
          />
        ) : (
          <Field
            label="Collections"
            error={errorOf("collections")}
            hint="Optional, comma-separated. Leave empty to restore every collection."
          >
            {(field) => (
              <input
                {...field}
                value={collectionsText}
                autocomplete="off"
                spellcheck={false}
                placeholder="all collections"
                onInput={(e) => setCollectionsText(e.currentTarget.value)}
              />
            )}
          </Field>
        )}
        <DropOption drop={drop} onChange={setDrop} error={errorOf("drop")} />
        <ErrorBanner error={checkError} />
        {!confirming && <ErrorBanner error={start.error} />}
        {started && (
          <p class="banner banner-ok" role="status">
            Restore queued: {started.source_database} into {started.target_database} on{" "}
            {serverName(started.target_server_id)}. Follow it in the history below.
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={checking || start.busy}>
            {checking ? "Checking the target…" : start.busy ? "Starting…" : "Start restore"}
          </button>
        </div>
      </form>
      {confirming && (
        <ConfirmDialog
          title={`Restore over ${targetDatabase}?`}
          confirmLabel="Restore over it"
          typeToConfirm={targetDatabase}
          danger
          busy={start.busy}
          error={start.error}
          onConfirm={() => start.run()}
          onClose={() => setConfirming(false)}
        >
          <p>
            <strong>{targetDatabase}</strong> already exists on <strong>{targetName}</strong>.
          </p>
          {drop ? (
            <p>
              Each collection restored from the backup (
              {chosenCollections.length > 0 ? chosenCollections.join(", ") : "all of them"}) is dropped there
              first and replaced by the backup's copy: its current documents are lost. Collections that are
              not restored are left as they are.
            </p>
          ) : (
            <p>
              Nothing is dropped: the backup's documents are inserted beside the ones already there. A
              document whose <code>_id</code> already exists makes the restore fail part-way, leaving the
              database half restored. To replace the collections instead, cancel and tick “Drop each
              collection before restoring it”.
            </p>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}
