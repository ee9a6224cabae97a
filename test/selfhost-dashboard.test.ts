import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openTab, screenshot, type Tab } from "./browser/chromium";
import {
  createLink,
  follow,
  readShownQr,
  signIn,
  TARGET_ORIGIN,
  waitForClicks,
} from "./browser/dashboard-flow";
import { adminTokenOf, freeRunnerOffset, type Runner, startRunner } from "./runner";

/**
 * The dashboard of `npm run selfhost`, through its nginx, in a real Chromium: its files come from the
 * replicas' disk service, and a click travels the self-hosted pipeline (shipper, broker, aggregator).
 */

let base: string;
let runner: Runner;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let tab: Tab;
let adminToken: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "selfhost-dashboard-"));
  // As root, Postgres runs as the `postgres` user, which must be able to reach its directory.
  chmodSync(base, 0o755);
  const dataDir = join(base, "data");
  const offset = await freeRunnerOffset();
  [runner, chromium] = await Promise.all([
    startRunner({ dataDir, runDir: join(base, "run"), offset }),
    launchChromium(),
  ]);
  adminToken = adminTokenOf(dataDir);
  tab = await openTab(chromium.browser, { name: "selfhost" });
}, 180_000);
afterAll(async () => {
  await chromium?.close();
  await runner?.interrupt();
  rmSync(base, { recursive: true, force: true });
}, 60_000);

describe("the self-hosted dashboard through nginx", () => {
  const slug = `sh-${crypto.randomUUID().slice(0, 6)}`;

  it("signs in, creates a link, follows it and shows the click", async () => {
    const { page, step } = tab;
    await step("sign in", () => signIn(page, runner.lbUrl, adminToken));
    const shortUrl = await step("create", () => createLink(page, { url: `${TARGET_ORIGIN}/selfhost`, slug }));
    expect(shortUrl).toBe(`${runner.lbUrl}/${slug}`);
    expect(await step("qr", () => readShownQr(page))).toBe(shortUrl);
    expect(await step("follow", () => follow(page, shortUrl))).toBe(`${TARGET_ORIGIN}/selfhost`);
    await step("stats", () => waitForClicks(page, 1, 90_000));
    await screenshot(page, "selfhost-link");
    expect(tab.problems).toEqual([]);
  }, 150_000);
});
