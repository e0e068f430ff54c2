// Parts of the restore form: the collection checkboxes (from the backup's own list) and the
// drop option with its error.

export function CollectionPicker(props: {
  names: string[];
  counts: Record<string, number>;
  picked: string[];
  onChange: (picked: string[]) => void;
  error: string | undefined;
}) {
  const { names, counts, picked, onChange, error } = props;
  const toggle = (name: string, on: boolean) =>
    // Kept in the list's order, whatever order they were ticked in.
    onChange(names.filter((n) => (n === name ? on : picked.includes(n))));
  return (
    <fieldset
      class={`collections${error ? " field-invalid" : ""}`}
      aria-describedby="restore-collections-hint"
    >
      <legend>Collections</legend>
      <p id="restore-collections-hint" class="hint">
        {picked.length === 0
          ? `None ticked: all ${names.length} collections are restored.`
          : `${picked.length} of ${names.length} collections will be restored.`}
      </p>
      <div class="collection-list">
        {names.map((name) => (
          <label key={name} class="checkbox">
            <input
              type="checkbox"
              checked={picked.includes(name)}
              aria-invalid={Boolean(error)}
              onChange={(e) => toggle(name, e.currentTarget.checked)}
            />
            <span>
              {name} <span class="muted">({documents(counts[name] ?? 0)})</span>
            </span>
          </label>
        ))}
      </div>
      {error && <small class="field-error">{error}</small>}
    </fieldset>
  );
}

export function DropOption(props: {
  drop: boolean;
  onChange: (drop: boolean) => void;
  error: string | undefined;
}) {
  return (
    <div class={props.error ? "field-invalid" : ""}>
      <label class="checkbox">
        <input
          type="checkbox"
          checked={props.drop}
          aria-invalid={Boolean(props.error)}
          aria-describedby={props.error ? "restore-drop-error" : undefined}
          onChange={(e) => props.onChange(e.currentTarget.checked)}
        />
        <span>Drop each collection before restoring it</span>
      </label>
      {props.error && (
        <p id="restore-drop-error" class="field-error drop-error">
          {props.error}
        </p>
      )}
    </div>
  );
}

function documents(count: number): string {
  return `${count.toLocaleString()} ${count === 1 ? "document" : "documents"}`;
}
