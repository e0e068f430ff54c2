// Restore drills and imports in the console, in real Chromium against real local mode (its own
// process, the demo MongoDB, the real tools): the drill badge and per-collection proof of a backup
// whose record carries a verification (written through the file store, as local mode's own tasks
// write it), Verify now and its refusal, the schedule's verify option, the settings' drill section,
// the sandbox checkbox, the dashboard's "proven restorable" card, importing a dump, and Restore latest.
// Any browser console error, page error, failed request or request leaving the origin fails a test.
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import { SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import type { Backup, Drill, Verification } from "#core/entities.ts";
import { newId, nowIso } from "#core/ids.ts";
import { makeBackup, makeDrill } from "#test/support/fixtures.ts";
import { launchChromium, type WatchedPage, watchedPage } from "../support/browser.ts";
import { repoRoot } from "../support/engine-harness.ts";
import { scratchDir } from "../support/env.ts";
import { type LocalModeProcess, startLocalMode } from "../support/local-mode-process.ts";

const shots = join(repoRoot, "test/screenshots");
const token = `drills-${Date.now()}-operator`;
const JOB_TIMEOUT = 90_000;

let local: LocalModeProcess;
let browser: Browser;
let operator: WatchedPage;
let store: SqliteMetadataStore;
let serverId = "";
/** A real, completed backup of `shop`, whose record gets a seeded passing verification. */
let proven: Backup;
/** The backup the import test made (newer than `proven`, and not drilled). */
let imported: Backup | undefined;

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const reply = await local.api(method, path, body);
  return reply as { status: number; json: T };
}

async function open(page: Page, label: string) {
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: label, exact: true })
    .click();
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(label);
}

/** Waits for a backup to end (a loop, not expect.poll: beforeAll runs outside any test). */
async function waitForBackup(id: string): Promise<Backup> {
  const deadline = Date.now() + JOB_TIMEOUT;
  let seen: Backup | undefined;
  while (Date.now() < deadline) {
    seen = (await api<Backup>("GET", `/api/backups/${id}`)).json;
    if (/^(completed|failed|cancelled)$/.test(seen.status)) return seen;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`backup ${id} did not end in ${JOB_TIMEOUT} ms; last seen ${JSON.stringify(seen)}`);
}

async function shoot(page: Page, name: string) {
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

function expectNoProblems(watched: WatchedPage) {
  expect(watched.problems, watched.problems.join("\n")).toEqual([]);
}

/** What a passing drill of `backup` records: every collection restored, its indexes there, valid. */
function passingVerification(backup: Backup): Verification {
  const collections: Verification["collections"] = {};
  for (const [name, count] of Object.entries(backup.collections ?? {})) {
    collections[name] = {
      expected: count,
      restored: count,
      indexes_expected: ["_id_"],
      indexes_restored: ["_id_"],
      valid: "valid",
    };
  }
  return {
    status: "passed",
    drill_id: newId(),
    at: nowIso(),
    duration_ms: 4321,
    target: "ephemeral",
    collections,
    error: null,
  };
}

/** Writes what a passing drill of `backup` leaves: the proof on the backup, the summary on its database. */
async function prove(backup: Backup): Promise<void> {
  const verification = passingVerification(backup);
  proven = await store.backups.update(backup.id, { verification });
  const { items } = await store.databases.list(
    { server_id: backup.server_id, name: backup.database },
    { limit: 1 },
  );
  const database = items[0];
  if (!database) throw new Error(`no managed database ${backup.database}`);
  await store.databases.update(database.id, {
    last_verified: { backup_id: backup.id, at: verification.at, duration_ms: verification.duration_ms },
  });
}

describe("restore drills and imports in the console", () => {
  beforeAll(async () => {
    await mkdir(shots, { recursive: true });
    [local, browser] = await Promise.all([
      startLocalMode({ dataDir: scratchDir("console-drills-"), token }),
      launchChromium(),
    ]);
    // The running local mode's own database, opened as a task process opens it (WAL: readers and
    // writers in several processes).
    store = new SqliteMetadataStore({ database: localDatabase(local.dataDir) });
    const servers = (await api<{ items: { id: string; name: string }[] }>("GET", "/api/servers")).json;
    serverId = servers.items.find((s) => s.name === "Demo")?.id ?? "";
    expect(serverId).not.toBe("");
    expect((await api("POST", "/api/databases/sync", { server_id: serverId })).status).toBe(200);
    const queued = await api<{ items: Backup[] }>("POST", "/api/backups", {
      server_id: serverId,
      database: "shop",
      name: "proven by a drill",
    });
    expect(queued.status).toBe(202);
    proven = await waitForBackup(queued.json.items[0]?.id ?? "");
    expect(proven.status, proven.error ?? "").toBe("completed");
    await prove(proven);

    operator = await watchedPage(browser, local.url);
    await operator.page.goto(`${local.url}/#token=${token}`);
    await operator.page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor({ timeout: 30_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await local?.stop();
  }, 60_000);

  it("badges each completed backup and shows the drill's per-collection proof on its page", async () => {
    const failed = await store.backups.create(
      makeBackup({
        server_id: serverId,
        database: "analytics",
        status: "failed",
        error: "seeded: mongodump exited with code 1",
        finished_at: nowIso(),
      }),
    );
    const { page } = operator;
    await open(page, "Backups");
    const row = page.locator(`tr[data-backup-id="${proven.id}"]`);
    await expect.poll(() => row.locator("[data-drill]").getAttribute("data-drill")).toBe("passed");
    const failedRow = page.locator(`tr[data-backup-id="${failed.id}"]`);
    await expect.poll(() => failedRow.getAttribute("data-status")).toBe("failed");
    expect(await failedRow.locator("[data-drill]").count()).toBe(0); // only completed backups are drilled

    await row.getByRole("link", { name: /^Details of / }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Backup of shop");
    const table = page.getByRole("table", { name: "What the drill restored, per collection" });
    const names = Object.keys(proven.collections ?? {}).sort();
    expect(names.length).toBeGreaterThan(0);
    await expect.poll(() => table.locator("tbody tr").count()).toBe(names.length);
    for (const name of names) {
      const cells = await table.locator(`tr[data-collection="${name}"] > *`).allTextContents();
      const count = String(proven.collections?.[name]);
      expect(cells).toEqual([name, count, count, "_id_", "_id_", "valid"]);
    }
    expect(await page.locator("[data-recovery-ms]").getAttribute("data-recovery-ms")).toBe("4321");
    expect(await page.locator("[data-recovery-ms]").textContent()).toBe("4 s");
    await expect.poll(() => page.getByText("a throwaway server in the task").count()).toBeGreaterThan(0);
    await shoot(page, "backup-detail");

    // A failed backup cannot be drilled: its page says so and offers no Verify now.
    await page.goto(`${local.url}/backups/${failed.id}`);
    await expect.poll(() => page.getByText("Only a completed backup can be drilled").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Verify now" }).count()).toBe(0);
    expectNoProblems(operator);
  }, 120_000);

  it("shows the share of proven databases and each one's recovery time on the dashboard", async () => {
    const { page } = operator;
    await open(page, "Dashboard");
    const stats = (
      await api<{ drills: { share: number | null; proven_databases: number; managed_databases: number } }>(
        "GET",
        "/api/stats",
      )
    ).json;
    expect(stats.drills.proven_databases).toBeGreaterThan(0);
    const card = page.locator(".card", { hasText: "Proven restorable" });
    await expect
      .poll(() => card.textContent())
      .toContain(`${stats.drills.proven_databases} of ${stats.drills.managed_databases} databases`);
    const times = page.getByRole("table", { name: "Recovery time per database" });
    await expect.poll(() => times.locator('tr[data-database="shop"]').textContent()).toContain("4 s");
    await shoot(page, "dashboard-drills");
    expectNoProblems(operator);
  }, 60_000);

  it("Verify now queues a drill that shows up and is followed to its end; a second while one waits is refused", async () => {
    const { page } = operator;
    await page.goto(`${local.url}/backups/${proven.id}`);
    await page.getByRole("button", { name: "Verify now" }).click();
    const drills = page.getByRole("region", { name: "Drills of this backup" }).locator("tr[data-drill-id]");
    await expect.poll(() => drills.count()).toBe(1);
    const drillId = (await drills.first().getAttribute("data-drill-id")) ?? "";
    const listed = await api<{ items: Drill[] }>("GET", `/api/drills?backup_id=${proven.id}`);
    expect(listed.json.items.map((d) => d.id)).toEqual([drillId]);
    expect(listed.json.items[0]).toMatchObject({ trigger: "manual", created_by: "local-operator" });
    // The page follows the drill to its end without a reload, and then shows what the record says.
    await expect
      .poll(() => drills.first().getAttribute("data-status"), { timeout: JOB_TIMEOUT })
      .toMatch(/^(completed|failed|cancelled)$/);
    const ended = (await api<Drill>("GET", `/api/drills/${drillId}`)).json;
    expect(await drills.first().getAttribute("data-status")).toBe(ended.status);
    // A real drill (local mode's throwaway server): it passes, and its proof replaces the seeded one.
    expect({ status: ended.status, error: ended.error }).toEqual({ status: "completed", error: null });
    const record = (await api<Backup>("GET", `/api/backups/${proven.id}`)).json;
    expect(record.verification).toMatchObject({ status: "passed", drill_id: drillId, target: "ephemeral" });
    const badge = page.getByRole("heading", { name: /^Restore drill/ }).locator("[data-drill]");
    await expect.poll(() => badge.getAttribute("data-drill")).toBe("passed");
    await expect
      .poll(() => page.locator("[data-recovery-ms]").getAttribute("data-recovery-ms"))
      .toBe(String(record.verification?.duration_ms));
    const table = page.getByRole("table", { name: "What the drill restored, per collection" });
    expect(await table.locator("tbody tr").count()).toBe(
      Object.keys(record.verification?.collections ?? {}).length,
    );
    await shoot(page, "backup-drilled");

    // Another completed backup with a drill already running (as a task would leave it): refused, shown.
    const waiting = await store.backups.create(
      makeBackup({
        server_id: serverId,
        database: "analytics",
        status: "completed",
        finished_at: nowIso(),
        collections: { events: 1 },
      }),
    );
    await store.drills.create(
      makeDrill({
        backup_id: waiting.id,
        server_id: serverId,
        database: "analytics",
        status: "running",
        started_at: nowIso(),
        progress: { bytes: 0, at: nowIso() },
        runner_ref: "seeded-by-the-test",
      }),
    );
    await page.goto(`${local.url}/backups/${waiting.id}`);
    await expect.poll(() => page.getByText("A drill of this backup is running.").count()).toBe(1);
    await page.getByRole("button", { name: "Verify now" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toContain(`a drill of backup ${waiting.id} is already running`);
    expect(
      (await api<{ items: Drill[] }>("GET", `/api/drills?backup_id=${waiting.id}`)).json.items,
    ).toHaveLength(1);
    // The browser reports the refused call itself; nothing else went wrong.
    expect(operator.problems).toEqual([expect.stringMatching(/console error: .*409/)]);
    operator.problems.length = 0;
  }, 180_000);

  it("the sandbox checkbox and the settings' drill section save what they show", async () => {
    const { page } = operator;
    await open(page, "Settings");
    await page.getByRole("button", { name: "Add server" }).click();
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("Staging");
    await page.getByRole("textbox", { name: "Host", exact: true }).fill("127.0.0.1");
    await page.getByRole("spinbutton", { name: "Port" }).fill("27999");
    const sandbox = page.getByRole("checkbox", { name: "Sandbox for restore drills" });
    expect(await sandbox.getAttribute("aria-describedby")).toBe("sandbox-hint");
    await sandbox.check();
    await page.getByRole("button", { name: "Save server" }).click();
    await expect.poll(() => page.getByRole("rowheader", { name: "Staging sandbox" }).count()).toBe(1);
    const servers = (
      await api<{ items: { id: string; name: string; sandbox: boolean }[] }>("GET", "/api/servers")
    ).json.items;
    const staging = servers.find((s) => s.name === "Staging");
    expect(staging?.sandbox).toBe(true);
    expect(servers.find((s) => s.name === "Demo")?.sandbox).toBe(false);

    const drills = page.getByRole("form", { name: "Restore drills" });
    const target = drills.getByLabel("Default drill target");
    await expect.poll(() => target.inputValue()).toBe("ephemeral");
    await target.selectOption({ label: "Sandbox: Staging" });
    await drills.getByLabel("Proof may be this old (days)").fill("14");
    await drills.getByRole("button", { name: "Save drill settings" }).click();
    await expect.poll(() => drills.getByRole("status").textContent()).toBe("Drill settings saved.");
    let settings = (await api<{ drills: unknown }>("GET", "/api/settings")).json;
    expect(settings.drills).toEqual({
      target: { kind: "sandbox", server_id: staging?.id },
      max_age_days: 14,
    });

    // Back to the throwaway server, which the later drills use; a bad age is caught before sending.
    await target.selectOption("ephemeral");
    await drills.getByLabel("Proof may be this old (days)").fill("0");
    await drills.getByRole("button", { name: "Save drill settings" }).click();
    await expect
      .poll(() => drills.getByLabel("Proof may be this old (days)").getAttribute("aria-invalid"))
      .toBe("true");
    await drills.getByLabel("Proof may be this old (days)").fill("7");
    await drills.getByRole("button", { name: "Save drill settings" }).click();
    await expect.poll(() => drills.getByRole("status").textContent()).toBe("Drill settings saved.");
    settings = (await api<{ drills: unknown }>("GET", "/api/settings")).json;
    expect(settings.drills).toEqual({ target: { kind: "ephemeral" }, max_age_days: 7 });
    expectNoProblems(operator);
  }, 120_000);

  it("the schedule form's verify option and drill target make the round trip", async () => {
    const { page } = operator;
    await open(page, "Schedules");
    await page.getByRole("button", { name: "New schedule" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Drilled nightly");
    const form = page.getByRole("region", { name: "New schedule" });
    // A new schedule drills every backup unless told otherwise.
    expect(await form.getByRole("radio", { name: "Every backup" }).isChecked()).toBe(true);
    await form.getByRole("radio", { name: "Every Nth backup" }).check();
    await form.getByLabel("Drill every how many backups").fill("3");
    await form.getByLabel("Drill target").selectOption({ label: "Sandbox: Staging" });
    await page.getByRole("button", { name: "Create schedule" }).click();
    await expect.poll(() => page.getByRole("switch", { name: "Enabled Drilled nightly" }).count()).toBe(1);
    const saved = async () =>
      (
        await api<{ items: { name: string; verify_every: number; drill_target: unknown }[] }>(
          "GET",
          "/api/schedules",
        )
      ).json.items.find((s) => s.name === "Drilled nightly");
    const staging = (
      await api<{ items: { id: string; name: string }[] }>("GET", "/api/servers")
    ).json.items.find((s) => s.name === "Staging");
    expect(await saved()).toMatchObject({
      verify_every: 3,
      drill_target: { kind: "sandbox", server_id: staging?.id },
    });
    await expect.poll(() => page.getByText("drills one backup in 3").count()).toBe(1);

    // Editing shows what was saved; "Never" and the settings' default go back as 0 and null.
    await page.getByRole("button", { name: "Edit Drilled nightly" }).click();
    const edit = page.getByRole("region", { name: "Edit Drilled nightly" });
    expect(await edit.getByRole("radio", { name: "Every Nth backup" }).isChecked()).toBe(true);
    expect(await edit.getByLabel("Drill every how many backups").inputValue()).toBe("3");
    expect(await edit.getByLabel("Drill target").inputValue()).toBe(`sandbox:${staging?.id}`);
    await edit.getByLabel("Drill target").selectOption("");
    await edit.getByRole("radio", { name: "Never" }).check();
    await page.getByRole("button", { name: "Save schedule" }).click();
    await expect.poll(async () => (await saved())?.verify_every).toBe(0);
    expect((await saved())?.drill_target).toBeNull();
    await expect.poll(() => page.getByText("no drills").count()).toBe(1);
    expectNoProblems(operator);
  }, 120_000);

  it("imports a dump from the form, lists it as imported, and refuses the same source twice", async () => {
    // A dump made outside the product: the proven backup's own archive, put under imports/.
    const key = "imports/e2e/shop.archive.zst";
    await mkdir(join(local.dataDir, "imports", "e2e"), { recursive: true });
    await copyFile(join(local.dataDir, "blobs", proven.blob_key ?? ""), join(local.dataDir, key));
    const { page } = operator;
    await open(page, "Backups");
    await page.getByRole("button", { name: "Import a dump" }).click();
    const dialog = page.getByRole("dialog", { name: "Import a dump" });
    await dialog.getByLabel("Server", { exact: true }).selectOption({ label: "Demo" });
    await dialog.getByLabel("Database", { exact: true }).fill("shop");
    await dialog.getByLabel("Source key").fill(key);
    await dialog.getByLabel("Name (optional)").fill("brought over");
    await dialog.getByRole("button", { name: "Start import" }).click();
    const row = page.locator("tr", { hasText: "brought over" });
    // What the page says: the row's status once listed, else the dialog's error; until either ends.
    const said = async () => {
      if ((await row.count()) > 0)
        return `row ${await row.getAttribute("data-status")}: ${await row.textContent()}`;
      const alerts = await dialog.getByRole("alert").allTextContents();
      return alerts.length > 0 ? `refused: ${alerts.join(" | ")}` : "waiting";
    };
    await expect.poll(said, { timeout: JOB_TIMEOUT }).toMatch(/^(row (completed|failed|cancelled)|refused)/);
    expect(await said()).toMatch(/^row completed/);
    expect(await row.getByText("imported", { exact: true }).count()).toBe(1);
    imported = (await api<Backup>("GET", `/api/backups/${await row.getAttribute("data-backup-id")}`)).json;
    expect(imported).toMatchObject({
      server_id: serverId,
      database: "shop",
      trigger: "import",
      imported_from: key,
      collections: proven.collections,
    });

    await page.getByRole("button", { name: "Import a dump" }).click();
    await dialog.getByLabel("Database", { exact: true }).fill("shop");
    await dialog.getByLabel("Source key").fill(key);
    await dialog.getByRole("button", { name: "Start import" }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toContain(imported.id);
    expect(
      (await api<{ items: Backup[] }>("GET", "/api/backups?limit=100")).json.items.filter(
        (b) => b.imported_from === key,
      ),
    ).toHaveLength(1);
    expect(operator.problems).toEqual([expect.stringMatching(/console error: .*409/)]);
    operator.problems.length = 0;
    await dialog.getByRole("button", { name: "Cancel" }).click();
  }, 180_000);

  it("Restore latest on a database row restores the newest proven backup and names it", async () => {
    // The drill Verify now ran may have replaced the seeded proof: prove this one again.
    await prove(proven);
    const { page } = operator;
    await page.goto(`${local.url}/settings`); // a fresh page, whatever the previous test left open
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Settings");
    await page.getByRole("button", { name: "Restore latest shop on Demo" }).click();
    const dialog = page.getByRole("dialog", { name: "Restore the latest backup of shop" });
    await dialog.getByLabel("Target database").fill("shop_latest");
    await dialog.getByRole("checkbox", { name: /newest proven backup/ }).check();
    await dialog.getByRole("button", { name: "Restore latest" }).click();
    // Verified: the newest backup whose drill passed, which is the proven one (the import is newer).
    await expect
      .poll(() => dialog.getByRole("status").textContent(), { timeout: 30_000 })
      .toContain(proven.id);
    const restores = (
      await api<{ items: { backup_id: string; target_database: string; id: string }[] }>(
        "GET",
        "/api/restore",
      )
    ).json.items;
    expect(restores[0]).toMatchObject({ backup_id: proven.id, target_database: "shop_latest" });
    await dialog.getByRole("button", { name: "Close" }).click();
    await expect
      .poll(
        async () => (await api<{ status: string }>("GET", `/api/restore/${restores[0]?.id}`)).json.status,
        { timeout: JOB_TIMEOUT },
      )
      .toBe("completed");

    // Without "newest proven": the newest completed backup of shop, which is the import.
    expect(imported).toBeDefined();
    await page.getByRole("button", { name: "Restore latest shop on Demo" }).click();
    await dialog.getByLabel("Target database").fill("shop_newest");
    await dialog.getByRole("button", { name: "Restore latest" }).click();
    await expect
      .poll(() => dialog.getByRole("status").textContent(), { timeout: 30_000 })
      .toContain(imported?.id);
    const newest = (
      await api<{ items: { backup_id: string; target_database: string }[] }>("GET", "/api/restore")
    ).json.items[0];
    expect(newest).toMatchObject({ backup_id: imported?.id, target_database: "shop_newest" });
    await dialog.getByRole("button", { name: "Close" }).click();
    expectNoProblems(operator);
  }, 180_000);
});
