/**
 * The self-hosted Workers KV: workerd sends every operation of a `kvNamespace`
 * binding that points at this service as HTTP (see RUNTIME-NOTES), and this stores
 * the values in Redis under `kv:`. It is a replica like Cloudflare's KV: Postgres has
 * the truth, and the edge falls back to Postgres on a miss.
 *
 * @example
 *   const kv = await startKvService({ redisUrl });   // workerd: (name = "kvstore", external = (address = kv.address, http = ()))
 * CLI: REDIS_URL=… PORT=8070 tsx selfhost/kv-service.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import IORedis from "ioredis";

const PREFIX = "kv:";

export async function startKvService(opts: { redisUrl: string; port?: number; host?: string }): Promise<{
  address: string;
  port: number;
  close(): Promise<void>;
}> {
  const redis = new IORedis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  await new Promise<void>((resolve) => {
    if (redis.status === "ready") resolve();
    redis.once("ready", () => resolve());
    setTimeout(resolve, 5000);
  });

  const server = createServer(async (req, res) => {
    try {
      await handle(redis, req, res);
    } catch (err) {
      // workerd turns a non-2xx (other than 404 on get) into an exception in the worker.
      res.writeHead(503).end(`kv store unavailable: ${(err as Error).message}`);
    }
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    address: `${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        redis.disconnect();
      }),
  };
}

async function handle(redis: IORedis, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://kv");
  const key = decodeURIComponent(url.pathname.slice(1));
  const q = url.searchParams;

  if (req.method === "GET" && key === "") return list(redis, q, res);
  if (req.method === "GET") {
    const [value, metadata] = await redis.hmgetBuffer(PREFIX + key, "v", "m");
    if (value === null) return void res.writeHead(404).end();
    res.writeHead(200, metadata ? { "CF-KV-Metadata": metadata.toString() } : {}).end(value);
    return;
  }
  if (req.method === "PUT") {
    const body = await readBody(req);
    const metadata = req.headers["cf-kv-metadata"];
    const multi = redis
      .multi()
      .del(PREFIX + key)
      .hset(PREFIX + key, "v", body);
    if (typeof metadata === "string") multi.hset(PREFIX + key, "m", metadata);
    const ttl = Number(q.get("expiration_ttl"));
    const at = Number(q.get("expiration"));
    if (ttl > 0) multi.expire(PREFIX + key, ttl);
    else if (at > 0) multi.expireat(PREFIX + key, at);
    await multi.exec();
    return void res.writeHead(200).end();
  }
  if (req.method === "DELETE") {
    await redis.del(PREFIX + key);
    // A missing key is not an error for KV.
    return void res.writeHead(200).end();
  }
  res.writeHead(405).end();
}

async function list(redis: IORedis, q: URLSearchParams, res: ServerResponse): Promise<void> {
  const limit = Math.min(Number(q.get("key_count_limit") ?? 1000) || 1000, 1000);
  const prefix = q.get("prefix") ?? "";
  let cursor = q.get("cursor") ?? "0";
  const names: string[] = [];
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}${escapeGlob(prefix)}*`, "COUNT", 500);
    cursor = next;
    names.push(...keys.map((k) => k.slice(PREFIX.length)));
  } while (cursor !== "0" && names.length < limit);
  const done = cursor === "0";
  const body = {
    keys: names.sort().map((name) => ({ name })),
    list_complete: done,
    ...(done ? {} : { cursor }),
  };
  res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, "\\$&");

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const kv = await startKvService({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    port: Number(process.env.PORT ?? 8070),
    host: process.env.HOST,
  });
  console.log(`kv service on ${kv.address}`);
}
