import { openDatabase } from "@shared/db/client";
import { links } from "@shared/db/schema";
import { type LinkRecord, toLinkRecord } from "@shared/links/record";
import { unavailable } from "@shared/problem";
import { and, eq, isNull } from "drizzle-orm";
import type { Env } from "../env";
import { lookup } from "../metrics";
import type { Runtime } from "../runtime";

/** The part of the execution context this needs. */
export type Background = { waitUntil(promise: Promise<unknown>): void };

/**
 * Finds the record for a slug: KV first (one read); on a miss, Postgres with a short
 * timeout, because KV is eventually consistent and a link made seconds ago may not be
 * there yet. A found link is written back to KV; a missing or unanswerable one is
 * remembered briefly so that misses cannot flood the database.
 * Returns null for unknown slugs; throws a 503 problem when Postgres cannot answer.
 */
export async function resolveLink(
  rt: Runtime,
  env: Env,
  ctx: Background,
  slug: string,
): Promise<LinkRecord | null> {
  let record: LinkRecord | null = null;
  try {
    record = await rt.links.get(slug);
  } catch {
    // The link store failing is a miss, not an error: Postgres can still answer.
    lookup.storeError.inc();
  }
  if (record) {
    lookup.kvHit.inc();
    return record;
  }

  const now = Date.now();
  const cached = rt.missing.lookup(slug, now);
  if (cached === "missing") {
    lookup.miss.inc();
    return null;
  }
  if (cached === "unavailable") {
    lookup.unavailable.inc();
    throw unavailable("the link store is not reachable; retry shortly");
  }

  const ttlMs = rt.config.negativeCacheSeconds * 1000;
  let found: LinkRecord | null;
  try {
    found = await withTimeout(findInDatabase(env, ctx, slug), rt.config.dbFallbackTimeoutMs);
  } catch {
    lookup.unavailable.inc();
    rt.missing.remember(slug, "unavailable", Math.min(ttlMs, 2000), now);
    throw unavailable("the link store is not reachable; retry shortly");
  }
  if (!found) {
    lookup.miss.inc();
    rt.missing.remember(slug, "missing", ttlMs, now);
    return null;
  }
  lookup.dbHit.inc();
  ctx.waitUntil(rt.links.put(slug, found).catch(() => {}));
  return found;
}

async function findInDatabase(env: Env, ctx: Background, slug: string): Promise<LinkRecord | null> {
  const handle = openDatabase({ url: env.DATABASE_URL, wsProxy: env.DB_WS_PROXY, connectTimeoutMs: 2000 });
  try {
    const [row] = await handle.db
      .select({
        id: links.id,
        url: links.url,
        statusCode: links.statusCode,
        expiresAt: links.expiresAt,
        maxClicks: links.maxClicks,
      })
      .from(links)
      .where(and(eq(links.slug, slug), isNull(links.deletedAt)))
      .limit(1);
    return row ? toLinkRecord(row) : null;
  } finally {
    ctx.waitUntil(handle.close().catch(() => {}));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
