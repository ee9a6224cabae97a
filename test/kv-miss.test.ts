import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./stack";

/**
 * How a KV miss is answered (KV_MISS_FALLBACK, docs/decisions.md), in both configurations:
 * Cloudflare's, where KV lags behind Postgres and a bounded fallback asks Postgres, and
 * self-host's, where KV is the complete read model and a miss never reaches Postgres.
 */

const FALLBACK_PER_SECOND = 3;
const uniqueSlug = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The fallback budget refills to a full burst within a second. */
const fullBudget = () => sleep(1100);

/** Postgres as the redirects used it: connections the Neon driver asked the proxy for, and the fallback's count. */
async function postgresUse(stack: Stack) {
  const text = await (await stack.fetch("/metrics")).text();
  const outcome = (name: string) => {
    const line = new RegExp(`^edge_kv_miss_fallback_total\\{outcome="${name}"\\} (\\d+)$`, "m").exec(text);
    if (!line) throw new Error(`no ${name} line in /metrics`);
    return Number(line[1]);
  };
  return {
    connections: stack.wsProxy.requested,
    queries: outcome("found") + outcome("not_found") + outcome("failed"),
    overBudget: outcome("over_budget"),
  };
}

async function createLink(stack: Stack, slug: string) {
  const res = await stack.api("POST", "/links", { url: `https://example.com/${slug}`, slug });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** Written to Postgres only, as a link created moments ago at another location is before KV has it there. */
const insertInPostgresOnly = (stack: Stack, slug: string) =>
  stack.db.query("insert into links (slug, url, owner_id) values ($1, $2, 'admin')", [
    slug,
    `https://example.com/${slug}`,
  ]);

describe("KV miss on Cloudflare (KV_MISS_FALLBACK=postgres, bounded)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      consumer: "recorder",
      vars: { KV_MISS_FALLBACK: "postgres", KV_MISS_FALLBACK_PER_SECOND: String(FALLBACK_PER_SECOND) },
    });
  });
  afterAll(() => stack?.close());

  it("finds a link that is in Postgres but not yet in KV, with one query", async () => {
    const slug = uniqueSlug("pg-only");
    await insertInPostgresOnly(stack, slug);
    await fullBudget();
    const before = await postgresUse(stack);
    const res = await stack.fetch(`/${slug}`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`https://example.com/${slug}`);
    expect((await postgresUse(stack)).queries - before.queries).toBe(1);
  });

  it(`asks Postgres at most ${FALLBACK_PER_SECOND} times a second for a flood of unknown slugs; the rest are 404 at once`, async () => {
    await fullBudget();
    const before = await postgresUse(stack);
    const started = Date.now();
    const flood = Array.from({ length: FALLBACK_PER_SECOND + 9 }, () => uniqueSlug("flood"));
    const statuses = await Promise.all(flood.map(async (s) => (await stack.fetch(`/${s}`)).status));
    // The budget earns tokens while the flood runs: that much more is allowed, no more.
    const bound = FALLBACK_PER_SECOND + Math.floor(((Date.now() - started) / 1000) * FALLBACK_PER_SECOND);
    const after = await postgresUse(stack);
    expect(statuses.every((s) => s === 404)).toBe(true);
    expect(after.connections - before.connections).toBeLessThanOrEqual(bound);
    expect(after.queries - before.queries).toBeLessThanOrEqual(bound);
    expect(after.overBudget - before.overBudget).toBeGreaterThanOrEqual(flood.length - bound);
  });

  it("answers 503 with Retry-After while Postgres is down and budget remains, 404 past it, never 500", async () => {
    await fullBudget();
    stack.wsProxy.pause();
    try {
      const first = await stack.fetch(`/${uniqueSlug("down")}`);
      expect(first.status).toBe(503);
      expect(first.headers.get("retry-after")).toBe("1");
      const flood = Array.from({ length: FALLBACK_PER_SECOND + 9 }, () => uniqueSlug("down"));
      const statuses = await Promise.all(flood.map(async (s) => (await stack.fetch(`/${s}`)).status));
      expect(statuses.filter((s) => s !== 503 && s !== 404)).toEqual([]);
      expect(statuses.filter((s) => s === 404).length).toBeGreaterThan(0);
    } finally {
      stack.wsProxy.resume();
    }
  });

  it("answers a deleted slug 404 from its KV tombstone, without a Postgres query", async () => {
    const slug = uniqueSlug("tomb");
    await createLink(stack, slug);
    expect((await stack.fetch(`/${slug}`)).status).toBe(302);
    expect((await stack.api("DELETE", `/links/${slug}`)).status).toBe(204);
    await fullBudget();
    const before = await postgresUse(stack);
    expect((await stack.fetch(`/${slug}`)).status).toBe(404);
    const after = await postgresUse(stack);
    expect(after.queries).toBe(before.queries);
    expect(after.connections).toBe(before.connections);
  });
});

describe("KV miss self-hosted (KV_MISS_FALLBACK=none: KV is the complete read model)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ consumer: "recorder", vars: { KV_MISS_FALLBACK: "none" } });
  });
  afterAll(() => stack?.close());

  it("answers unknown slugs 404 without a single Postgres query", async () => {
    const before = await postgresUse(stack);
    for (let i = 0; i < 5; i++) expect((await stack.fetch(`/${uniqueSlug("none")}`)).status).toBe(404);
    const after = await postgresUse(stack);
    expect(after.connections).toBe(before.connections);
    expect(after.queries).toBe(before.queries);
  });

  it("still answers 404 for unknown slugs, and redirects real links, while Postgres is down", async () => {
    const slug = uniqueSlug("real");
    await createLink(stack, slug);
    stack.wsProxy.pause();
    try {
      const unknown = await stack.fetch(`/${uniqueSlug("none-down")}`);
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get("content-type")).toBe("application/problem+json");
      expect((await stack.fetch(`/${slug}`)).status).toBe(302);
    } finally {
      stack.wsProxy.resume();
    }
  });

  it("does not look in Postgres for a link KV does not have", async () => {
    const slug = uniqueSlug("pg-only");
    await insertInPostgresOnly(stack, slug);
    expect((await stack.fetch(`/${slug}`)).status).toBe(404);
  });
});
