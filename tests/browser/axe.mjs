// Run axe-core on an HTML file in headless Chromium (through playwright-core) and print
// the WCAG 2.1 A/AA result as JSON. Usage: node axe.mjs PAGE.html CHROMIUM_PATH
// The page is loaded from disk; every other request is refused, so no network is used.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const [, , page_path, executablePath] = process.argv;
const axe = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  await page.route("**/*", (route) => route.abort());
  await page.setContent(readFileSync(page_path, "utf8"), { waitUntil: "load" });
  await page.addScriptTag({ content: axe });
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    }),
  );
  const brief = (items) =>
    items.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target) }));
  console.log(
    JSON.stringify({
      axe: result.testEngine.version,
      violations: brief(result.violations),
      passes: result.passes.length,
      incomplete: brief(result.incomplete),
    }),
  );
} finally {
  await browser.close();
}
