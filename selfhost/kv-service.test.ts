import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKvService } from "./kv-service";
import { type RedisServer, startRedis } from "./services/redis";

let redis: RedisServer;
let kv: Awaited<ReturnType<typeof startKvService>>;
let base = "";
const TOKEN = "kv-test-token";
/** fetch with the service's token, as workerd's KV binding sends it (injectRequestHeaders). */
const authed = (url: string, init: RequestInit = {}) =>
  fetch(url, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${TOKEN}` },
  });

beforeAll(async () => {
  redis = await startRedis({ persist: true });
  kv = await startKvService({ redisUrl: redis.url, token: TOKEN });
  base = `http://${kv.address}`;
});
afterAll(async () => {
  await kv?.close();
  await redis?.dispose();
});

const key = (k: string) => `${base}/${encodeURIComponent(k)}?urlencoded=true`;

describe("KV service (workerd's KV-over-HTTP protocol)", () => {
  it("gets what was put, with metadata; 404 for a missing key; delete of a missing key is fine", async () => {
    expect(
      (
        await authed(key("link:a"), {
          method: "PUT",
          body: '{"v":1}',
          headers: { "CF-KV-Metadata": '{"m":1}' },
        })
      ).status,
    ).toBe(200);
    const got = await authed(key("link:a"));
    expect(await got.text()).toBe('{"v":1}');
    expect(got.headers.get("cf-kv-metadata")).toBe('{"m":1}');
    expect((await authed(key("link:none"))).status).toBe(404);
    expect((await authed(key("link:none"), { method: "DELETE" })).status).toBe(200);
  });

  it("lists by prefix with a cursor", async () => {
    for (const n of ["p:1", "p:2", "p:3", "q:1"]) await authed(key(n), { method: "PUT", body: n });
    const first = (await (await authed(`${base}/?prefix=p:&key_count_limit=2`)).json()) as {
      keys: { name: string }[];
      list_complete: boolean;
      cursor: string;
    };
    expect(first.keys.map((k) => k.name)).toEqual(["p:1", "p:2"]);
    expect(first.list_complete).toBe(false);
    const rest = (await (
      await authed(`${base}/?prefix=p:&key_count_limit=2&cursor=${first.cursor}`)
    ).json()) as { keys: { name: string }[]; list_complete: boolean };
    expect(rest).toEqual({ keys: [{ name: "p:3" }], list_complete: true });
  });

  it("serves reads while Redis is down and persists writes made meanwhile when it returns", async () => {
    await authed(key("link:keep"), { method: "PUT", body: "kept" });
    await redis.stop();
    expect(await (await authed(key("link:keep"))).text()).toBe("kept");
    expect((await authed(key("link:late"), { method: "PUT", body: "late" })).status).toBe(200);
    expect(await (await authed(key("link:late"))).text()).toBe("late");
    expect(kv.unflushed()).toBe(1);
    await redis.start();
    const client = new IORedis(redis.url);
    try {
      for (let i = 0; i < 50 && kv.unflushed() > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(kv.unflushed()).toBe(0);
      expect((await client.hget("kv:link:late", "v")) ?? "").toBe("late");
    } finally {
      client.disconnect();
    }
  });

  it("feeds the keys written, then only the changes since a position; a restarted service sends them all", async () => {
    type Page = { epoch: string; seq: number; full: boolean; keys?: string[]; changes?: unknown[] };
    const feed = async (query: string) =>
      (await (await authed(`${base}/?changes_since=${query}`)).json()) as Page;
    const first = await feed("");
    expect(first.full).toBe(true);
    expect(first.keys).toContain("link:keep");
    await authed(key("link:fed"), { method: "PUT", body: "x" });
    await authed(key("link:keep2"), { method: "DELETE" });
    const next = await feed(`${first.seq}&epoch=${first.epoch}`);
    expect(next).toEqual({
      epoch: first.epoch,
      seq: first.seq + 2,
      full: false,
      changes: [
        ["link:fed", 1],
        ["link:keep2", 0],
      ],
    });

    const second = await startKvService({ redisUrl: redis.url, token: TOKEN });
    try {
      const after = (await (
        await authed(`http://${second.address}/?changes_since=${next.seq}&epoch=${next.epoch}`)
      ).json()) as Page;
      expect(after.epoch).not.toBe(first.epoch);
      expect(after.full).toBe(true);
      expect(after.keys).toEqual(expect.arrayContaining(["link:keep", "link:fed"]));
    } finally {
      await second.close();
    }
  });

  it("loads what Redis holds when it starts", async () => {
    const second = await startKvService({ redisUrl: redis.url, token: TOKEN });
    try {
      expect(await (await authed(`http://${second.address}/${encodeURIComponent("link:keep")}`)).text()).toBe(
        "kept",
      );
    } finally {
      await second.close();
    }
  });
});

describe("KV service access", () => {
  it("refuses a request without the token or with a wrong one, and serves the right one", async () => {
    const put = (headers: Record<string, string>) =>
      fetch(key("link:forged"), { method: "PUT", body: '{"u":"https://evil.example"}', headers });
    expect((await put({})).status).toBe(401);
    expect((await put({ Authorization: "Bearer wrong-token" })).status).toBe(401);
    expect((await fetch(key("link:forged"))).status).toBe(401);
    expect((await fetch(`${base}/?changes_since=`)).status).toBe(401);
    expect((await authed(key("link:forged"))).status).toBe(404);
    expect((await put({ Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it("does not start without a token", async () => {
    await expect(startKvService({ redisUrl: redis.url, token: "" })).rejects.toThrow(/token/);
  });
});
