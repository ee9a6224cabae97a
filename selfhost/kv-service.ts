/**
 * The self-hosted Workers KV: workerd sends every operation of a `kvNamespace`
 * binding that points at this service as HTTP (see RUNTIME-NOTES).
 *
 * Values live in memory and are written through to Redis (kv-service/store.ts), which
 * persists them; at start the memory is loaded from Redis. Reads never touch Redis, so
 * redirects keep working while Redis is down; writes made meanwhile are kept in memory
 * and flushed to Redis when it returns. Postgres has the
 * truth, and the runner repairs this store from it at start (selfhost/repair.ts); unlike
 * Cloudflare's KV it is strongly consistent, so the edge answers a miss here with a 404
 * without asking Postgres (KV_MISS_FALLBACK=none, docs/decisions.md).
 *
 * It also numbers every write, for the edge isolates' index of its keys (`GET /?changes_since=`,
 * kv-service/change-log.ts): a never-seen slug is then a 404 without a read here.
 *
 * Every request needs `Authorization: Bearer <token>` (selfhost/internal-auth.ts): a forged
 * `PUT /link:<slug>` would point a short link anywhere. workerd's binding sends it through
 * `injectRequestHeaders` (selfhost/workerd-config.ts).
 *
 * @example
 *   const kv = await startKvService({ redisUrl, token });   // workerd: edgeConfig({ kvAddress: kv.address, internalToken: token })
 * CLI: REDIS_URL=… INTERNAL_TOKEN=… PORT=8070 [HOST=0.0.0.0] tsx selfhost/kv-service.ts
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { FEED_PARAM, feedAsk } from "@shared/kv-key-index";
import { runServiceIfMain } from "./entry-point";
import { type Answer, type ServiceHandle, startHttpService } from "./http-service";
import { requireToken } from "./internal-auth";
import { KvStore } from "./kv-service/store";
import { readBody } from "./services/http";

/** Text values of the store, read and written as the HTTP API does (memory, then Redis). */
export type KvRecords = {
  keys(prefix: string): string[];
  get(key: string): string | null;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
};

export type KvService = ServiceHandle & {
  /** `host:port`, for workerd's kvNamespace binding. */
  address: string;
  /** Keys written while Redis was unreachable, not yet persisted. */
  unflushed(): number;
  /** The same store in process, for the runner's start-up repair (selfhost/repair.ts). */
  records: KvRecords;
};

export async function startKvService(opts: {
  redisUrl: string;
  /** The deployment's internal token; the service refuses to start without one. */
  token: string;
  port?: number;
  host?: string;
}): Promise<KvService> {
  // Checked before Redis is dialled: without a token the service does not start at all.
  const token = requireToken(opts.token, "kv service");
  const store = await KvStore.open(opts.redisUrl);
  const http = await startHttpService({
    port: opts.port,
    host: opts.host,
    auth: { token, service: "kv service" },
    handle: (req, res) => route(store, req, res),
    onError: (err) => [500, `kv error: ${err.message}`],
  }).catch((err) => {
    store.close();
    throw err;
  });
  return {
    ...http,
    address: `${opts.host ?? "127.0.0.1"}:${http.port}`,
    unflushed: () => store.unflushed(),
    records: {
      keys: (prefix) => store.keys(prefix),
      get: (key) => store.get(key)?.value.toString() ?? null,
      put: (key, value) => store.put(key, { value: Buffer.from(value), metadata: null, expiresAt: null }),
      delete: (key) => store.delete(key),
    },
    close: async () => {
      store.close();
      await http.close();
    },
  };
}

/**
 * workerd's KV protocol: `GET`/`PUT`/`DELETE /<key>`, `GET /?prefix=` to list; and the change feed of keys
 * for the edge's key index, `GET /?changes_since=<seq>&epoch=<epoch>` and the pages of a reload's snapshot,
 * `GET /?changes_since=&snapshot=<seq>&offset=<n>&epoch=<epoch>` (kv-service/change-log.ts), which
 * workerd's KV binding never sends (its keys are never empty).
 */
async function route(store: KvStore, req: IncomingMessage, res: ServerResponse): Promise<Answer | undefined> {
  const url = new URL(req.url ?? "/", "http://kv");
  const key = decodeURIComponent(url.pathname.slice(1));
  const q = url.searchParams;
  if (req.method === "GET" && key === "" && q.has(FEED_PARAM)) {
    return [200, store.changes.page(feedAsk(q), () => store.keys(""))];
  }
  if (req.method === "GET" && key === "") return [200, list(store, q)];
  if (req.method === "GET") {
    const entry = store.get(key);
    // workerd reads 404 as "no such key" (null); anything else non-2xx is an error.
    if (!entry) return [404];
    res.writeHead(200, entry.metadata ? { "CF-KV-Metadata": entry.metadata } : {}).end(entry.value);
    return;
  }
  if (req.method === "PUT") {
    const ttl = Number(q.get("expiration_ttl"));
    const at = Number(q.get("expiration"));
    const metadata = req.headers["cf-kv-metadata"];
    await store.put(key, {
      value: await readBody(req),
      metadata: typeof metadata === "string" ? metadata : null,
      expiresAt: ttl > 0 ? Date.now() + ttl * 1000 : at > 0 ? at * 1000 : null,
    });
    return [200];
  }
  if (req.method === "DELETE") {
    // A missing key is not an error for KV.
    await store.delete(key);
    return [200];
  }
  return [405];
}

/** One page of names in key order; the cursor is the last name of the page. */
function list(store: KvStore, q: URLSearchParams) {
  const limit = Math.min(Number(q.get("key_count_limit") ?? 1000) || 1000, 1000);
  const after = q.get("cursor") ? Buffer.from(q.get("cursor") as string, "base64url").toString() : "";
  const names = store
    .keys(q.get("prefix") ?? "")
    .filter((k) => k > after)
    .sort();
  const page = names.slice(0, limit);
  const done = page.length === names.length;
  const last = page[page.length - 1] ?? "";
  return {
    keys: page.map((name) => ({ name })),
    list_complete: done,
    ...(done ? {} : { cursor: Buffer.from(last).toString("base64url") }),
  };
}

await runServiceIfMain(import.meta.url, { port: 8070 }, async (env) => {
  const kv = await startKvService({
    redisUrl: env.redisUrl,
    token: env.internalToken,
    port: env.port,
    host: env.host,
  });
  return { service: kv, started: `kv service on ${kv.address}` };
});
