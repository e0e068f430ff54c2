// Real Chromium for the console's tests: Debian's /usr/bin/chromium (installed by the bootstrap),
// driven by playwright-core. Every page is watched: a console error, an uncaught exception, a
// failed request or a request outside the console's origin is recorded, and the tests fail on any.
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const chromiumPath = process.env.MBM_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}: run bash scripts/bootstrap.sh (it installs Debian's chromium)`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    // The sandbox needs user namespaces, which containers and root shells often lack.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Everything that went wrong in the browser, in order: the tests expect this to stay empty. */
  problems: string[];
  /** Every request URL the page made, to check that none leaves the origin. */
  requests: string[];
}

/**
 * A new page whose problems are recorded. Requests may go to `origin` and to `allowedOrigins` (on
 * AWS the console also talks to its API and to Cognito, which are other origins).
 */
export async function watchedPage(
  browser: Browser,
  origin: string,
  viewport = { width: 1280, height: 900 },
  allowedOrigins: readonly string[] = [],
): Promise<WatchedPage> {
  const allowed = new Set([origin, ...allowedOrigins]);
  const context = await browser.newContext({ viewport, reducedMotion: "reduce" });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    requests.push(request.url());
    const url = new URL(request.url());
    if (!allowed.has(url.origin) && url.protocol !== "data:")
      problems.push(`request outside the origin: ${request.url()}`);
  });
  page.on("requestfailed", (request) => {
    // A navigation away aborts pending polls; that is not a failure of the page.
    if (request.failure()?.errorText === "net::ERR_ABORTED") return;
    problems.push(
      `request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ""}`,
    );
  });
  return { page, context, problems, requests };
}
