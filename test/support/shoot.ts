// Developer aid: a screenshot of a console page in real Chromium, with the browser's complaints.
//   node test/support/shoot.ts <url> <out.png> [width] [height]
import { launchChromium, watchedPage } from "./browser.ts";

const [url, out, width = "1280", height = "900"] = process.argv.slice(2);
if (!url || !out) {
  console.error("usage: node test/support/shoot.ts <url> <out.png> [width] [height]");
  process.exit(2);
}
const browser = await launchChromium();
try {
  const { page, problems } = await watchedPage(browser, new URL(url).origin, {
    width: Number(width),
    height: Number(height),
  });
  await page.goto(url);
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(500);
  await page.screenshot({ path: out, fullPage: true });
  console.log(problems.length ? problems.join("\n") : "no problems");
} finally {
  await browser.close();
}
