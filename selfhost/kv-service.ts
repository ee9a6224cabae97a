/**
 * The self-hosted Workers KV: workerd sends every operation of a `kvNamespace`
 * binding that points at this service as HTTP (see RUNTIME-NOTES).
 *
 * Values live in memory and are written through to Redis (key `kv:<name>`, a hash of
 * value and metadata), which persists them; at start the memory is loaded from Redis.
 * Reads never touch Redis, so redirects keep working while Redis is down; writes made
 * meanwhile are kept in memory and flushed to Redis when it returns. Postgres has the
 * truth, and the runner repairs this store from it at start (selfhost/repair.ts); unlike
 * Cloudflare's KV it is strongly consistent, so the edge answers a miss here with a 404
 * without asking Postgres (KV_MISS_FALLBACK=none, docs/decisions.md).
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
import IORedis from "ioredis";
import { runServiceIfMain } from "./entry-point";
import { type Answer, type ServiceHandle, startHttpService } from "./http-service";
import { requireToken } from "./internal-auth";
import { readBody } from "./services/http";

const PREFIX = "kv:";

/** Text values of the store, read and written as the HTTP API does (memory, then Redis). */
export type KvRecords = {
  keys(prefix: string): string[];
  get(key: string): string | null;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
};
type Entry = { value: Buffer; metadata: string | null; expiresAt: number | null };

export async function startKvService(opts: {
  redisUrl: string;
  /** The deployment's internal token; the service refuses to start without one. */
  token: string;
  port?: number;
  host?: string;
}): Promise<
  ServiceHandle & {
    /** `host:port`, for workerd's kvNamespace binding. */
    address: string;
    /** Keys written while Redis was unreachable, not yet persisted. */
    unflushed(): number;
    /** The same store in process, for the runner's start-up repair (selfhost/repair.ts). */
    records: KvRecords;
  }
> {
  // Checked before Redis is dialled: without a token the service does not start at all.
  const auth = { token: requireToken(opts.token, "kv service"), service: "kv service" };
  const redis = new IORedis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  const entries = new Map<string, Entry>();
  /** Keys whose latest state (value or deletion) Redis does not have yet. */
  const dirty = new Set<string>();

  const persist = async (key: string) => {
    const entry = entries.get(key);
    const multi = redis.multi().del(PREFIX + key);
    if (entry) {
      multi.hset(PREFIX + key, "v", entry.value);
      if (entry.metadata) multi.hset(PREFIX + key, "m", entry.metadata);
      if (entry.expiresAt) multi.pexpireat(PREFIX + key, entry.expiresAt);
    }
    await multi.exec();
  };
  const flush = async () => {
    for (const key of [...dirty]) {
      await persist(key);
      dirty.delete(key);
    }
  };
  redis.on(
    "ready",
    () =>
      void load()
        .then(flush)
        .catch(() => {}),
  );

  /** Loads what Redis has, without overwriting writes made here since. */
  const load = async () => {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 1000);
      cursor = next;
      for (const full of keys) {
        const key = full.slice(PREFIX.length);
        if (dirty.has(key) || entries.has(key)) continue;
        const [value, metadata] = await redis.hmgetBuffer(full, "v", "m");
        const ttl = await redis.pttl(full);
        if (value)
          entries.set(key, {
            value,
            metadata: metadata?.toString() ?? null,
            expiresAt: ttl > 0 ? Date.now() + ttl : null,
          });
      }
    } while (cursor !== "0");
  };

  await new Promise<void>((resolve) => {
    if (redis.status === "ready") resolve();
    redis.once("ready", () => resolve());
    setTimeout(resolve, 5000);
  });
  await load().catch(() => {});

  const write = async (key: string) => {
    try {
      await persist(key);
      dirty.delete(key);
    } catch {
      // Redis is away: keep serving from memory and persist when it is back.
      dirty.add(key);
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<Answer | undefined> {
    const url = new URL(req.url ?? "/", "http://kv");
    const key = decodeURIComponent(url.pathname.slice(1));
    const q = url.searchParams;
    if (req.method === "GET" && key === "") return [200, list(q)];
    if (req.method === "GET") {
      const entry = live(key);
      // workerd reads 404 as "no such key" (null); anything else non-2xx is an error.
      if (!entry) return [404];
      res.writeHead(200, entry.metadata ? { "CF-KV-Metadata": entry.metadata } : {}).end(entry.value);
      return;
    }
    if (req.method === "PUT") {
      const ttl = Number(q.get("expiration_ttl"));
      const at = Number(q.get("expiration"));
      const metadata = req.headers["cf-kv-metadata"];
      entries.set(key, {
        value: await readBody(req),
        metadata: typeof metadata === "string" ? metadata : null,
        expiresAt: ttl > 0 ? Date.now() + ttl * 1000 : at > 0 ? at * 1000 : null,
      });
      await write(key);
      return [200];
    }
    if (req.method === "DELETE") {
      entries.delete(key);
      await write(key);
      // A missing key is not an error for KV.
      return [200];
    }
    return [405];
  }

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry?.expiresAt && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function list(q: URLSearchParams) {
    const limit = Math.min(Number(q.get("key_count_limit") ?? 1000) || 1000, 1000);
    const prefix = q.get("prefix") ?? "";
    const after = q.get("cursor") ? Buffer.from(q.get("cursor") as string, "base64url").toString() : "";
    const names = [...entries.keys()].filter((k) => k.startsWith(prefix) && k > after && live(k)).sort();
    const page = names.slice(0, limit);
    const done = page.length === names.length;
    const last = page[page.length - 1] ?? "";
    return {
      keys: page.map((name) => ({ name })),
      list_complete: done,
      ...(done ? {} : { cursor: Buffer.from(last).toString("base64url") }),
    };
  }

  const http = await startHttpService({
    port: opts.port,
    host: opts.host,
    auth,
    handle,
    onError: (err) => [500, `kv error: ${err.message}`],
  });
  return {
    ...http,
    address: `${opts.host ?? "127.0.0.1"}:${http.port}`,
    unflushed: () => dirty.size,
    records: {
      keys: (prefix) => [...entries.keys()].filter((k) => k.startsWith(prefix) && live(k)),
      get: (key) => live(key)?.value.toString() ?? null,
      async put(key, value) {
        entries.set(key, { value: Buffer.from(value), metadata: null, expiresAt: null });
        await write(key);
      },
      async delete(key) {
        entries.delete(key);
        await write(key);
      },
    },
    close: async () => {
      redis.disconnect();
      await http.close();
    },
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
