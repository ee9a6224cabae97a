import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminTokenOf, freeRunnerOffset, type Runner, startRunner } from "./runner";
import { eventually } from "./stack";

/**
 * `npm run selfhost` itself, stopped with Ctrl-C and started again on the same data
 * directory, as an operator does: what it held must still be there.
 */
let base: string;
let dataDir: string;
let offset: number;
let runner: Runner | undefined;

const start = async () => {
  runner = await startRunner({ dataDir, runDir: join(base, "run"), offset });
  return runner;
};
const stop = async () => {
  expect(await runner?.interrupt()).toBe(0);
  runner = undefined;
};

function client(token: () => string) {
  const lb = () => runner?.lbUrl as string;
  return {
    api: (method: string, path: string, body?: unknown, key = token()) =>
      fetch(`${lb()}/api/v1${path}`, {
        method,
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    follow: (slug: string) => fetch(`${lb()}/${slug}`, { redirect: "manual" }),
    /** HEAD answers like GET but is not a click. */
    peek: (slug: string) => fetch(`${lb()}/${slug}`, { method: "HEAD", redirect: "manual" }),
  };
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "selfhost-durable-"));
  // As root, Postgres runs as the `postgres` user, which must be able to reach its directory.
  chmodSync(base, 0o755);
  dataDir = join(base, "data");
  offset = await freeRunnerOffset();
});
afterAll(async () => {
  await runner?.interrupt();
  rmSync(base, { recursive: true, force: true });
}, 60_000);

describe("npm run selfhost on a data directory", () => {
  const { api, follow, peek } = client(() => adminTokenOf(dataDir));
  const totals = async (slug: string) => {
    const res = await api("GET", `/links/${slug}/stats`);
    expect(res.status, slug).toBe(200);
    return ((await res.json()) as { totals: unknown }).totals;
  };

  it("keeps links, stats, keys and ids across Ctrl-C and a new start", async () => {
    await start();
    const made: Array<{ id: number; slug: string }> = [];
    for (const [slug, maxClicks] of [
      ["kept", undefined],
      ["limited", 100],
      ["gone", undefined],
    ] as const) {
      const res = await api("POST", "/links", { url: `https://example.com/${slug}`, slug, maxClicks });
      expect(res.status).toBe(201);
      made.push((await res.json()) as { id: number; slug: string });
    }
    expect((await api("DELETE", "/links/gone")).status).toBe(204);
    const keyRes = await api("POST", "/keys", { name: "reader", scopes: ["links:read", "stats:read"] });
    expect(keyRes.status).toBe(201);
    const { key } = (await keyRes.json()) as { key: string };
    for (let i = 0; i < 5; i++) expect((await follow("kept")).status).toBe(302);
    for (let i = 0; i < 3; i++) expect((await follow("limited")).status).toBe(302);
    const counted = async (slug: string, n: number) =>
      eventually(async () => {
        const t = (await totals(slug)) as { clicks?: number; humans: number; bots: number };
        return t.humans + t.bots === n ? t : undefined;
      }, 30_000);
    const before = { kept: await counted("kept", 5), limited: await counted("limited", 3) };
    await stop();

    await start();
    expect((await peek("kept")).headers.get("location")).toBe("https://example.com/kept");
    expect((await peek("gone")).status).toBe(404);
    expect(await totals("kept")).toEqual(before.kept);
    expect(await totals("limited")).toEqual(before.limited);
    expect((await api("GET", "/links", undefined, key)).status).toBe(200);
    expect((await api("GET", "/links", undefined, `${key}x`)).status).toBe(401);
    const fresh = await api("POST", "/links", { url: "https://example.com/fresh", slug: "fresh" });
    expect(fresh.status).toBe(201);
    const freshId = ((await fresh.json()) as { id: number }).id;
    expect(freshId).toBeGreaterThan(Math.max(...made.map((l) => l.id)));
    // The clicks after the restart add to the old ones: the click limit sees them all.
    expect((await follow("limited")).status).toBe(302);
    await counted("limited", 4);
    await stop();
  }, 420_000);
});
