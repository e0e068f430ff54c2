// The console in real Chromium against real local mode (its own process, the demo MongoDB, real
// mongodump/mongorestore): an operator's whole day from the browser. Any browser console error,
// uncaught exception, failed request or request leaving the origin fails the test. Screenshots of
// every page go to test/screenshots/ (git-ignored); the README shows two of them.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, type WatchedPage, watchedPage } from "../support/browser.ts";
import { repoRoot } from "../support/engine-harness.ts";
import { scratchDir } from "../support/env.ts";
import { type LocalModeProcess, startLocalMode } from "../support/local-mode-process.ts";

const shots = join(repoRoot, "test/screenshots");
const token = `console-${Date.now()}-operator`;
const viewerToken = `console-${Date.now()}-viewer`;
const JOB_TIMEOUT = 90_000;

let local: LocalModeProcess;
let browser: Browser;
let operator: WatchedPage;

async function shoot(page: Page, name: string) {
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Navigates with the console's own menu, as a user would. */
async function open(page: Page, label: string) {
  const toggle = page.getByRole("button", { name: "Menu" });
  if (await toggle.isVisible()) await toggle.click();
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: label, exact: true })
    .click();
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(label);
}

function expectNoProblems(watched: WatchedPage) {
  expect(watched.problems, watched.problems.join("\n")).toEqual([]);
}

describe("the console in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    [local, browser] = await Promise.all([
      startLocalMode({ dataDir: scratchDir("console-"), token, viewerToken }),
      launchChromium(),
    ]);
    operator = await watchedPage(browser, local.url);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await local?.stop();
  }, 60_000);

  it("signs in by the token in the URL fragment and removes it from the address bar", async () => {
    const { page } = operator;
    await page.goto(`${local.url}/#token=${token}`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Dashboard");
    expect(page.url()).toBe(`${local.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem("mbm-token"))).toBe(token);
    await expect.poll(() => page.getByText("local-operator").count()).toBeGreaterThan(0);
    expectNoProblems(operator);
  });

  it("walks: Demo server -> sync -> back up -> complete -> restore under a new name -> complete -> schedule -> toggle -> delete", async () => {
    const { page } = operator;
    // Settings: the Demo server is there; sync discovers its databases.
    await open(page, "Settings");
    await expect
      .poll(() => page.getByRole("rowheader", { name: "Demo", exact: true }).count())
      .toBeGreaterThan(0);
    await page.getByRole("button", { name: "Sync databases" }).click();
    await expect
      .poll(() => page.getByRole("rowheader", { name: "shop", exact: true }).count(), { timeout: 30_000 })
      .toBeGreaterThan(0);

    // Backups: back up "shop" now and watch it complete without reloading the page.
    await open(page, "Backups");
    await page.getByRole("button", { name: "Back up now" }).click();
    const trigger = page.getByRole("dialog", { name: "Back up now" });
    await trigger.getByLabel("Database", { exact: true }).selectOption("shop");
    await trigger.getByLabel("Name (optional)").fill("before the e2e restore");
    await trigger.getByRole("button", { name: "Start backup" }).click();
    await expect
      .poll(() => page.getByRole("status").filter({ hasText: "1 backup queued" }).count())
      .toBeGreaterThan(0);
    const row = page.locator("tr", { hasText: "before the e2e restore" });
    await expect.poll(() => row.getAttribute("data-status"), { timeout: JOB_TIMEOUT }).toBe("completed");
    const backupId = await row.getAttribute("data-backup-id");
    expect(backupId).toBeTruthy();
    await shoot(page, "backups");

    // Restore from the row: the form opens with this backup; restore under a new name.
    await row.getByRole("link", { name: /^Restore / }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Restore");
    const target = page.getByLabel("Target database", { exact: true });
    await target.fill("shop_from_console");
    await page.getByRole("button", { name: "Start restore" }).click();
    // What the page says next (queued, a field's error, an alert, a dialog), so a failure shows it.
    const said = page.locator(
      ".restore-form [role=status], .restore-form [role=alert], .field-error, [role=dialog]",
    );
    await expect
      .poll(async () => (await said.allTextContents()).join(" | "), { timeout: 30_000 })
      .toContain("Restore queued: shop into shop_from_console");
    const restoreRow = page.locator("tr", { hasText: "shop_from_console" }).first();
    await expect
      .poll(() => restoreRow.getAttribute("data-status"), { timeout: JOB_TIMEOUT })
      .toBe("completed");
    const restores = (await local.api("GET", "/api/restore")).json as {
      items: { target_database: string; status: string }[];
    };
    expect(restores.items[0]).toMatchObject({ target_database: "shop_from_console", status: "completed" });
    await shoot(page, "restore");

    // Again into the database that now exists: the console asks for its name before overwriting.
    await page.getByLabel("Target database", { exact: true }).fill("shop_from_console");
    await page.getByRole("button", { name: "Start restore" }).click();
    const confirm = page.getByRole("dialog", { name: "Restore over shop_from_console?" });
    const overwrite = confirm.getByRole("button", { name: "Restore over it" });
    expect(await overwrite.isDisabled()).toBe(true);
    await confirm.getByLabel("Type shop_from_console to confirm").fill("shop_from_consol");
    expect(await overwrite.isDisabled()).toBe(true);
    await confirm.getByRole("button", { name: "Cancel" }).click();
    const after = (await local.api("GET", "/api/restore")).json as { items: unknown[] };
    expect(after.items).toHaveLength(1); // nothing was sent
    // The dashboard now has a backup and a restore behind it: the README's picture.
    await open(page, "Dashboard");
    await expect.poll(() => page.locator("td", { hasText: "shop" }).count()).toBeGreaterThan(0);
    await shoot(page, "dashboard");

    // Schedules: build "weekdays at 02:30" with the builder; words and next runs appear; save; toggle off.
    await open(page, "Schedules");
    await page.getByRole("button", { name: "New schedule" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Weeknights");
    await page.getByLabel("Repeat", { exact: true }).selectOption("weekdays");
    await page.getByLabel("Hour", { exact: true }).fill("2");
    await page.getByLabel("Minute", { exact: true }).fill("30");
    await expect
      .poll(() => page.getByLabel("Cron expression", { exact: true }).inputValue())
      .toBe("30 2 * * 1-5");
    await expect.poll(() => page.getByText("At 02:30, Monday through Friday").count()).toBeGreaterThan(0);
    await shoot(page, "schedule-builder");
    await page.getByRole("button", { name: "Create schedule" }).click();
    const toggle = page.getByRole("switch", { name: "Enabled Weeknights" });
    await expect.poll(() => toggle.getAttribute("aria-checked")).toBe("true");
    await toggle.click();
    await expect.poll(() => toggle.getAttribute("aria-checked")).toBe("false");
    const schedules = (await local.api("GET", "/api/schedules")).json as {
      items: { name: string; cron_expression: string; enabled: boolean }[];
    };
    expect(schedules.items.find((s) => s.name === "Weeknights")).toMatchObject({
      cron_expression: "30 2 * * 1-5",
      enabled: false,
    });
    await shoot(page, "schedules");

    // Backups: delete the backup, confirming in the dialog.
    await open(page, "Backups");
    await page
      .locator(`tr[data-backup-id="${backupId}"]`)
      .getByRole("button", { name: /^Delete / })
      .click();
    await page
      .getByRole("dialog", { name: "Delete this backup?" })
      .getByRole("button", { name: "Delete backup" })
      .click();
    await expect.poll(() => page.locator(`tr[data-backup-id="${backupId}"]`).count()).toBe(0);
    expect((await local.api("GET", `/api/backups/${backupId}`)).status).toBe(404);
    expectNoProblems(operator);
  }, 300_000);

  it("screenshots every page at 1280 px and the dashboard at 375 px, all from the console's own origin", async () => {
    const { page } = operator;
    for (const [label, file] of [
      ["Settings", "settings"],
      ["Help", "help"],
    ] as const) {
      await open(page, label);
      await shoot(page, file);
    }
    const narrow = await watchedPage(browser, local.url, { width: 375, height: 812 });
    await narrow.page.goto(`${local.url}/#token=${token}`);
    await expect.poll(() => narrow.page.getByRole("heading", { level: 1 }).textContent()).toBe("Dashboard");
    await shoot(narrow.page, "dashboard-375");
    // Nothing wider than the screen but the tables' own scrollers.
    expect(await narrow.page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
      375,
    );
    await open(narrow.page, "Backups");
    expectNoProblems(narrow);
    expect(operator.requests.every((url) => url.startsWith(local.url))).toBe(true);
    expectNoProblems(operator);
    await narrow.context.close();
  }, 120_000);

  it("refuses a wrong token in the sign-in form with a message, then takes the right one", async () => {
    const watched = await watchedPage(browser, local.url);
    const { page } = watched;
    await page.goto(`${local.url}/backups`);
    await page.getByLabel("Token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("Sign in again");
    // The browser reports the refused call itself; nothing else went wrong.
    expect(watched.problems).toEqual([expect.stringMatching(/console error: .*401/)]);
    watched.problems.length = 0;
    await page.getByLabel("Token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Backups");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Sign in");
    expect(await page.evaluate<string | null>("sessionStorage.getItem('mbm-token')")).toBeNull();
    expectNoProblems(watched);
    await watched.context.close();
  });

  it("shows a viewer no control that changes anything, on rows it can read", async () => {
    // Its own rows, made through the API: what a viewer sees must not hang on what the walk left.
    const servers = (await local.api("GET", "/api/servers")).json as {
      items: { id: string; name: string }[];
    };
    const demo = servers.items.find((s) => s.name === "Demo");
    expect(demo).toBeDefined();
    const serverId = demo?.id ?? "";
    expect((await local.api("POST", "/api/databases/sync", { server_id: serverId })).status).toBe(200);
    const queued = await local.api("POST", "/api/backups", {
      server_id: serverId,
      database: "shop",
      name: "read by the viewer",
    });
    expect(queued.status).toBe(202);
    const backupId = (queued.json as { items: { id: string }[] }).items[0]?.id;
    await expect
      .poll(
        async () => ((await local.api("GET", `/api/backups/${backupId}`)).json as { status: string }).status,
        {
          timeout: JOB_TIMEOUT,
        },
      )
      .toBe("completed");
    const schedule = await local.api("POST", "/api/schedules", {
      name: "Read by the viewer",
      cron_expression: "30 2 * * 1-5",
      server_id: serverId,
      database: "shop",
      enabled: false,
    });
    expect(schedule.status).toBe(201);

    const watched = await watchedPage(browser, local.url);
    const { page } = watched;
    await page.goto(`${local.url}/#token=${viewerToken}`);
    await expect.poll(() => page.getByText("(viewer)").count()).toBe(1);
    await open(page, "Backups");
    const row = page.locator("tr", { hasText: "read by the viewer" });
    await expect.poll(() => row.getAttribute("data-status")).toBe("completed");
    // Reading is allowed: the download is there; nothing that changes or restores is.
    expect(await row.getByRole("button", { name: /^Download / }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Back up now" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Import a dump" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^(Delete|Edit|Cancel) / }).count()).toBe(0);
    expect(await page.getByRole("link", { name: /^Restore / }).count()).toBe(0);
    // Its page shows the drill state, not Verify now.
    await row.getByRole("link", { name: /^Details of / }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: /^Restore drill/ }).textContent())
      .toContain("not yet");
    expect(await page.getByRole("button", { name: "Verify now" }).count()).toBe(0);
    await open(page, "Schedules");
    await expect.poll(() => page.getByText("Read by the viewer").count()).toBeGreaterThan(0);
    expect(await page.getByRole("button", { name: "New schedule" }).count()).toBe(0);
    expect(await page.getByRole("switch").count()).toBe(0);
    await open(page, "Settings");
    await expect.poll(() => page.getByRole("rowheader", { name: "Demo", exact: true }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Add server" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Sync databases" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^Restore latest/ }).count()).toBe(0);
    await expect.poll(() => page.getByText("Proof may be this old (days)").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Save drill settings" }).count()).toBe(0);
    expectNoProblems(watched);
    await watched.context.close();
  }, 180_000);

  it("puts the API's 422 next to the field and creates nothing; a failed test shows its kind", async () => {
    const { page } = operator;
    const before = (await local.api("GET", "/api/servers")).json as { items: unknown[] };
    await open(page, "Settings");
    await page.getByRole("button", { name: "Add server" }).click();
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("Broken");
    await page.getByRole("radio", { name: "Connection string" }).check();
    // Only the API can tell: the URI parses, but its port is out of range.
    await page
      .getByRole("textbox", { name: "Connection string", exact: true })
      .fill("mongodb://db.example:99999/");
    await page.getByRole("button", { name: "Save server" }).click();
    const field = page.getByRole("textbox", { name: "Connection string", exact: true });
    await expect.poll(() => field.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (await field.getAttribute("aria-describedby")) ?? "";
    const fieldText = await page
      .locator(
        describedBy
          .split(" ")
          .map((id) => `[id="${id}"]`)
          .join(","),
      )
      .allTextContents();
    expect(fieldText.join(" ")).toMatch(/65535/);
    expect(((await local.api("GET", "/api/servers")).json as { items: unknown[] }).items).toHaveLength(
      before.items.length,
    );
    // The browser logs the 422 response itself.
    expect(operator.problems).toEqual([expect.stringMatching(/console error: .*422/)]);
    operator.problems.length = 0;

    // A server nobody listens on: the test says "unreachable".
    await page.getByRole("radio", { name: "Host and port" }).check();
    await page.getByRole("textbox", { name: "Host", exact: true }).fill("127.0.0.1");
    await page.getByRole("spinbutton", { name: "Port" }).fill("1");
    await page.getByRole("button", { name: "Save server" }).click();
    // The form closes; the keyboard carries on from the button that opened it.
    await expect
      .poll(() => page.evaluate<string | undefined>("document.activeElement?.textContent?.trim()"))
      .toBe("Add server");
    await page.getByRole("button", { name: "Test connection to Broken" }).click();
    await expect
      .poll(() => page.getByRole("row", { name: /Broken/ }).textContent(), { timeout: 30_000 })
      .toMatch(/unreachable/i);
    expectNoProblems(operator);
  }, 60_000);
});
