import { links } from "@shared/db/schema";
import { openDatabaseFor } from "@shared/db/settings";
import { linkKey } from "@shared/keys";
import { type LinkRecord, RECORD_COLUMNS, toLinkRecord } from "@shared/links/record";
import type { Background } from "@shared/ports";
import { unavailable } from "@shared/problem";
import { and, eq, isNull } from "drizzle-orm";
import { fallback, linkIndex, lookup } from "../metrics";
import type { Runtime } from "../runtime";

export type { Background };

/**
 * Finds the record for a slug on a domain ("" for the default): KV first (one read). What a KV miss means depends on
 * `config.kvMissFallback` (docs/decisions.md):
 * - "none": KV is the complete read model (the self-hosted KV service), so a miss is a
 *   404 without asking anything else;
 * - "postgres": Cloudflare's KV can take a minute to show a new link at every location,
 *   so a miss asks Postgres with a short timeout, at most `kvMissFallbackPerSecond` times
 *   a second per isolate; past that budget the miss is a 404. A found link is written
 *   back to KV; a missing or unanswerable one is remembered briefly.
 * Self-hosted, a key the isolate's index of KV keys (`rt.keyIndex`) did not hold at its last pull is a 404
 * without the KV read, but for `absentReadBudget` reads a second that find links created since.
 * A KV read that fails is not a miss: in both modes it may ask Postgres within the same
 * budget, and past it answers 503 rather than a 404 nobody checked.
 * Returns null for unknown slugs; throws a 503 problem when no store can answer.
 */
export async function resolveLink(
  rt: Runtime,
  ctx: Background,
  domain: string,
  slug: string,
): Promise<LinkRecord | null> {
  return lookUpLink(rt, ctx, domain, slug);
}

/**
 * resolveLink without a promise when the isolate answers from memory (a link it holds, or a 404 the index
 * of keys decides): the redirect's fast path, where every promise and await is CPU (docs/benchmarks.md).
 * Otherwise the promise of the read; it may also throw what resolveLink rejects with.
 */
export function lookUpLink(
  rt: Runtime,
  ctx: Background,
  domain: string,
  slug: string,
): LinkRecord | null | Promise<LinkRecord | null> {
  const key = linkKey(domain, slug);
  // A link the isolate holds is answered first: the index only spares misses a KV read.
  const held = rt.cachedLinks.cached(key);
  if (held) return found(rt, key, held, false);
  const absent = rt.keyIndex?.absent(key, ctx) ?? false;
  if (absent) {
    if (!rt.absentReadBudget.take(Date.now())) {
      linkIndex.skipped.inc();
      lookup.miss.inc();
      return null;
    }
    linkIndex.read.inc();
  }
  return readLink(rt, ctx, { key, domain, slug }, absent);
}

function found(rt: Runtime, key: string, record: LinkRecord, absent: boolean): LinkRecord {
  if (absent) rt.keyIndex?.add(key);
  lookup.kvHit.inc();
  return record;
}

/** The store's read, and what a miss or a failure of it means. */
async function readLink(
  rt: Runtime,
  ctx: Background,
  link: LinkAddress,
  absent: boolean,
): Promise<LinkRecord | null> {
  const { key } = link;
  let record: LinkRecord | null = null;
  let storeFailed = false;
  try {
    record = await rt.links.get(key);
  } catch {
    lookup.storeError.inc();
    storeFailed = true;
  }
  if (record) return found(rt, key, record, absent);
  if (!storeFailed && rt.config.kvMissFallback === "none") {
    fallback.skipped.inc();
    lookup.miss.inc();
    return null;
  }
  return askPostgres(rt, ctx, link, storeFailed);
}

/** A link's address: its KV key (also the negative cache's) and the columns that find it in Postgres. */
type LinkAddress = { key: string; domain: string; slug: string };

async function askPostgres(
  rt: Runtime,
  ctx: Background,
  link: LinkAddress,
  storeFailed: boolean,
): Promise<LinkRecord | null> {
  const now = Date.now();
  const cached = rt.missing.lookup(link.key, now);
  if (cached === "missing") {
    lookup.miss.inc();
    return null;
  }
  if (cached === "unavailable") throw noStoreAnswered();
  if (!rt.fallbackBudget.take(now)) {
    fallback.overBudget.inc();
    if (storeFailed) throw noStoreAnswered();
    lookup.miss.inc();
    return null;
  }

  const ttlMs = rt.config.negativeCacheSeconds * 1000;
  let found: LinkRecord | null;
  try {
    found = await withTimeout(findInDatabase(rt, ctx, link), rt.config.dbFallbackTimeoutMs);
  } catch {
    fallback.failed.inc();
    rt.missing.remember(link.key, "unavailable", Math.min(ttlMs, 2000), now);
    throw noStoreAnswered();
  }
  if (!found) {
    fallback.notFound.inc();
    lookup.miss.inc();
    rt.missing.remember(link.key, "missing", ttlMs, now);
    return null;
  }
  fallback.found.inc();
  lookup.dbHit.inc();
  ctx.waitUntil(rt.links.put(link.key, found).catch(() => {}));
  return found;
}

function noStoreAnswered() {
  lookup.unavailable.inc();
  return unavailable("the link store is not reachable; retry shortly");
}

async function findInDatabase(rt: Runtime, ctx: Background, link: LinkAddress): Promise<LinkRecord | null> {
  const handle = openDatabaseFor(rt.config.database, "kvMiss");
  try {
    const [row] = await handle.db
      .select(RECORD_COLUMNS)
      .from(links)
      .where(and(eq(links.domain, link.domain), eq(links.slug, link.slug), isNull(links.deletedAt)))
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
