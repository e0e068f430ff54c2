// Webhook: where failure notifications are POSTed (Slack-compatible), a test message to it, and the
// outbound allowlist (CIDRs a webhook or a MongoDB server inside a private network may be reached at).
import { useState } from "preact/hooks";
import { ErrorBanner, Field, fieldErrorsOf } from "../../components/ui.tsx";
import type { Reply } from "../../lib/api.ts";
import { useApp, useCanChange } from "../../lib/context.ts";
import { useAction } from "../../lib/hooks.ts";
import type { Settings } from "../../lib/types.ts";

type WebhookTest = Reply<"POST", "/api/settings/webhook/test">;

/** Why `url` cannot be the webhook (the API takes http(s) URLs up to 2048 characters), or null. */
function urlProblem(url: string): string | null {
  if (url === "") return null;
  if (url.length > 2048) return "At most 2048 characters.";
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "Must be an http(s) URL.";
  } catch {
    return "Not a URL: it should look like https://hooks.example.com/…";
  }
  return null;
}

interface Props {
  settings: Settings;
  onSaved: (settings: Settings) => void;
}

export function WebhookSection({ settings, onSaved }: Props) {
  const { api } = useApp();
  const canChange = useCanChange();
  const [url, setUrl] = useState(settings.webhook_url ?? "");
  const [allowlist, setAllowlist] = useState((settings.outbound_allowlist ?? []).join("\n"));
  const [clientError, setClientError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [result, setResult] = useState<WebhookTest | null>(null);

  const save = useAction(async (webhook_url: string | null, outbound_allowlist: string[]) => {
    const next = await api.put("/api/settings", { body: { webhook_url, outbound_allowlist } });
    onSaved(next);
    const text = webhook_url ? "Webhook saved." : "Webhook removed: no notifications are sent.";
    setSaved(text);
  });
  const sendTest = useAction(async () => {
    setResult(null);
    const reply = await api.post("/api/settings/webhook/test");
    setResult(reply);
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(null);
    save.clearError();
    const trimmed = url.trim();
    const problem = urlProblem(trimmed);
    setClientError(problem);
    if (problem) {
      document.getElementById("webhook-url-field")?.querySelector("input")?.focus();
      return;
    }
    const next = trimmed === "" ? null : trimmed;
    const cidrs = allowlist
      .split(/[\s,]+/)
      .map((c) => c.trim())
      .filter(Boolean);
    if (next === settings.webhook_url && cidrs.join(",") === (settings.outbound_allowlist ?? []).join(",")) {
      setSaved("Nothing changed.");
      return;
    }
    await save.run(next, cidrs);
  };

  if (!canChange) {
    return (
      <section aria-labelledby="webhook-title" class="settings-section">
        <h2 id="webhook-title">Webhook</h2>
        <dl class="settings-list">
          <div>
            <dt>Webhook URL</dt>
            <dd>{settings.webhook_url ?? <span class="muted">none: failures are not announced</span>}</dd>
          </div>
          <div>
            <dt>Outbound allowlist</dt>
            <dd>
              {(settings.outbound_allowlist ?? []).join(", ") || (
                <span class="muted">none: public addresses only</span>
              )}
            </dd>
          </div>
        </dl>
      </section>
    );
  }

  return (
    <section aria-labelledby="webhook-title" class="settings-section">
      <h2 id="webhook-title">Webhook</h2>
      <form class="webhook-form" noValidate onSubmit={submit} aria-labelledby="webhook-title">
        <div id="webhook-url-field">
          <Field
            label="Webhook URL"
            error={clientError ?? fieldErrorsOf(save.error).webhook_url}
            hint="Failed backups and restores are POSTed here as JSON with a Slack-compatible “text”. Empty for none."
          >
            {(f) => (
              <input
                {...f}
                type="url"
                inputMode="url"
                autocomplete="off"
                spellcheck={false}
                placeholder="https://hooks.slack.com/services/…"
                value={url}
                onInput={(e) => setUrl(e.currentTarget.value)}
              />
            )}
          </Field>
        </div>
        <Field
          label="Outbound allowlist"
          error={fieldErrorsOf(save.error).outbound_allowlist}
          hint="CIDRs, one per line, that a webhook (or a MongoDB server on loopback or link-local) may be at, e.g. 10.0.0.0/8 for a receiver inside your VPC. Cloud metadata addresses are always refused."
        >
          {(f) => (
            <textarea
              {...f}
              rows={3}
              spellcheck={false}
              placeholder="10.0.0.0/8"
              value={allowlist}
              onInput={(e) => setAllowlist(e.currentTarget.value)}
            />
          )}
        </Field>
        <ErrorBanner error={save.error} />
        {saved && (
          <p class={`banner ${saved === "Nothing changed." ? "banner-info" : "banner-ok"}`} role="status">
            {saved}
          </p>
        )}
        <div class="actions">
          <button
            type="button"
            onClick={() => {
              setResult(null);
              void sendTest.run();
            }}
            disabled={sendTest.busy}
          >
            {sendTest.busy ? "Sending…" : "Send test message"}
          </button>
          <button type="submit" class="primary" disabled={save.busy}>
            {save.busy ? "Saving…" : "Save"}
          </button>
        </div>
        <p class="hint webhook-test-hint">The test message goes to the saved URL.</p>
        <ErrorBanner error={sendTest.error} onDismiss={sendTest.clearError} />
        {result && (
          <p class={`banner ${result.delivered ? "banner-ok" : "banner-error"}`} role="status">
            {result.delivered
              ? `Test message delivered (${attempts(result.attempts)}).`
              : `Test message not delivered after ${attempts(result.attempts)}: ${result.error ?? "no reason given"}`}
          </p>
        )}
      </form>
    </section>
  );
}

function attempts(n: number): string {
  return `${n} ${n === 1 ? "attempt" : "attempts"}`;
}
