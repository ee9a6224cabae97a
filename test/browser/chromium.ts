import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { ensureDebianPackages } from "../../selfhost/services/ensure-packages";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Debian's Chromium (`.ci/run` installs it); playwright-core downloads no browser of its own. */
const CHROMIUM = "/usr/bin/chromium";
/** Where a failed step leaves its screenshot (git-ignored). */
export const FAILURE_DIR = join(ROOT, "test-results/dashboard");
/** A desktop Chrome's user agent: Chromium headless names itself HeadlessChrome, which counts as a bot. */
const DESKTOP_CHROME =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/** The host of the test links' targets: Chromium resolves it to a server of the test's own on loopback. */
export const TARGET_HOST = "target.example";

/**
 * Chromium, with `TARGET_HOST` mapped to a local server that answers every path with a small page: a
 * visitor's redirect really lands, and nothing leaves the machine. (Playwright's request routing does not
 * see the request a redirect leads to, so the mapping is done by Chromium's resolver.)
 */
/**
 * With DASHBOARD_SCREENSHOTS=<folder> (`npm run screenshots` sets docs/screenshots), saves a full-page
 * screenshot of `page` there: the README's pictures come from a real run of the browser test.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.DASHBOARD_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  ensureDebianPackages([{ pkg: "chromium", present: () => existsSync(CHROMIUM) }]);
  const target: Server = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><title>landed</title><p>landed on ${req.url}</p>`);
  });
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  const { port } = target.address() as AddressInfo;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      `--host-resolver-rules=MAP ${TARGET_HOST} 127.0.0.1:${port}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      await new Promise((resolve) => target.close(resolve));
    },
  };
}

export type Tab = {
  page: Page;
  context: BrowserContext;
  /** Console errors, failed requests and CSP violations the page reported: none is expected. */
  problems: string[];
  /** Runs `fn`; when it throws, saves a screenshot named after the step and says where. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
};

/** A fresh browser context (no cookies, no storage) at `width` pixels, with its problems recorded. */
export async function openTab(browser: Browser, opts: { width?: number; name: string }): Promise<Tab> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: 900 },
    userAgent: DESKTOP_CHROME,
    permissions: ["clipboard-read", "clipboard-write"],
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (msg) => {
    // The API's 4xx answers (a wrong key, a refused field) are the page's own business; anything else is not.
    if (msg.type() === "error" && !/status of 4\d\d/.test(msg.text()))
      problems.push(`console: ${msg.text()}`);
  });
  page.on("requestfailed", (req) =>
    problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`),
  );
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      mkdirSync(FAILURE_DIR, { recursive: true });
      const file = join(FAILURE_DIR, `${opts.name}-${name.replace(/\W+/g, "-")}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      throw new Error(`step "${name}" failed (screenshot: ${file}): ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  return { page, context, problems, step };
}
