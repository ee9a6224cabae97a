import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis } from "../selfhost/services/redis";
import { clickCounterKey, linkKey } from "../shared/keys";
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
  it("repairs KV records and counters against Postgres at start", async () => {
    await start();
    const ids: Record<string, number> = {};
    for (const slug of ["r-missing", "r-deleted", "r-counted"]) {
      const res = await api("POST", "/links", { url: `https://example.com/${slug}`, slug, maxClicks: 50 });
      expect(res.status).toBe(201);
      ids[slug] = ((await res.json()) as { id: number }).id;
    }
    expect((await api("DELETE", "/links/r-deleted")).status).toBe(204);
    for (let i = 0; i < 3; i++) expect((await follow("r-counted")).status).toBe(302);
    await eventually(async () => {
      const t = (await totals("r-counted")) as { humans: number; bots: number };
      return t.humans + t.bots === 3 ? true : undefined;
    }, 30_000);
    await stop();

    // Damage what the runner keeps in Redis while it is stopped.
    const kvKey = (slug: string) => `kv:${linkKey("", slug)}`;
    const counter = clickCounterKey(ids["r-counted"] as number);
    await withRedis(async (redis) => {
      await redis.del(kvKey("r-missing"));
      await redis.hset(
        kvKey("r-deleted"),
        "v",
        JSON.stringify({ v: 1, id: ids["r-deleted"], u: "https://evil.example/" }),
      );
      await redis.hset(
        kvKey("r-unknown"),
        "v",
        JSON.stringify({ v: 1, id: 999_999, u: "https://evil.example/" }),
      );
      await redis.set(counter, "1");
    });

    const running = await start();
    // Soft: each kind of damage reports on its own.
    await withRedis(async (redis) => {
      expect.soft(JSON.parse((await redis.hget(kvKey("r-missing"), "v")) as string)).toMatchObject({
        id: ids["r-missing"],
        u: "https://example.com/r-missing",
      });
      expect.soft(JSON.parse((await redis.hget(kvKey("r-deleted"), "v")) as string)).toEqual({
        v: 1,
        id: ids["r-deleted"],
        u: "",
        d: 1,
      });
      expect.soft(await redis.exists(kvKey("r-unknown"))).toBe(0);
      expect.soft(await redis.get(counter)).toBe("3");
    }, 6380 + offset);
    expect.soft((await peek("r-deleted")).status).toBe(404);
    expect.soft((await peek("r-unknown")).status).toBe(404);
    expect.soft((await peek("r-missing")).status).toBe(302);
    expect(running.output()).toMatch(/edge data repaired from Postgres/);
    await stop();
  }, 420_000);

  it("comes back from a backup of its stopped data directory (README: Data, backup and restore)", async () => {
    await start();
    const res = await api("POST", "/links", { url: "https://example.com/backed-up", slug: "backed-up" });
    expect(res.status).toBe(201);
    for (let i = 0; i < 2; i++) expect((await follow("backed-up")).status).toBe(302);
    const saved = await eventually(async () => {
      const t = (await totals("backed-up")) as { humans: number; bots: number };
      return t.humans + t.bots === 2 ? t : undefined;
    }, 30_000);
    await stop();

    // The README's commands, with the test's directory for .selfhost.
    const backup = join(base, "backup.tgz");
    execFileSync("tar", ["-C", base, "-czpf", backup, "data"]);
    rmSync(dataDir, { recursive: true, force: true });
    execFileSync("tar", ["-C", base, "-xzpf", backup]);

    await start();
    expect((await peek("backed-up")).headers.get("location")).toBe("https://example.com/backed-up");
    expect(await totals("backed-up")).toEqual(saved);
    await stop();
  }, 420_000);
});

/** A client of the runner's Redis: its own (on `port`) or, while the runner is stopped, one started on its data. */
async function withRedis(work: (redis: IORedis) => Promise<void>, port?: number): Promise<void> {
  const password = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")).redisPassword as string;
  const server = port ? null : await startRedis({ dir: join(dataDir, "redis"), persist: true, password });
  const redis = new IORedis({ port: port ?? server?.port, password });
  try {
    await work(redis);
  } finally {
    redis.disconnect();
    await server?.stop();
  }
}
