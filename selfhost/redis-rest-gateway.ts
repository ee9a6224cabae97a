/**
 * An Upstash-REST-compatible gateway over a real redis-server, so @upstash/redis and
 * @upstash/ratelimit run unchanged in local runs, tests and self-host. It only
 * translates: every command goes to Redis as it came.
 *
 * Protocol (as the clients use it): `POST /` with `["CMD", ...args]` → `{result}` or
 * `{error}` (400); `POST /pipeline` and `POST /multi-exec` with a list of commands →
 * a list of `{result}`/`{error}`; `Authorization: Bearer <token>`; with
 * `Upstash-Encoding: base64` every string in a result is base64 except the status "OK".
 *
 * @example
 *   const gw = await startRedisGateway({ redisUrl: "redis://127.0.0.1:6379", token: "t" });
 *   new Redis({ url: gw.url, token: "t" });
 * CLI: REDIS_URL=… UPSTASH_TOKEN=… PORT=8079 tsx selfhost/redis-rest-gateway.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import IORedis from "ioredis";
import { readBody } from "./services/http";

type Command = Array<string | number>;
type Reply = { result: unknown } | { error: string };

export async function startRedisGateway(opts: {
  redisUrl: string;
  token: string;
  port?: number;
  host?: string;
}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  // No offline queue: while Redis is down, commands fail at once instead of piling up,
  // so callers hit their own fail-open path quickly.
  const redisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false };
  const redis = new IORedis(opts.redisUrl, redisOptions);
  redis.on("error", () => {});
  await readyOrTimeout(redis, 5000);
  const expected = `Bearer ${opts.token}`;

  const server = createServer(async (req, res) => {
    try {
      if (req.method === "GET" && req.url === "/health") return send(res, 200, "ok");
      if (req.headers.authorization !== expected) return send(res, 401, { error: "Unauthorized" });
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      const path = new URL(req.url ?? "/", "http://gateway").pathname;
      const body = await readJson(req);

      if (path === "/pipeline" || path === "/multi-exec") {
        if (!Array.isArray(body) || !body.every(isCommand))
          return send(res, 400, { error: "ERR expected a list of commands" });
        const replies = path === "/pipeline" ? await pipeline(redis, body) : await multiExec(redis, body);
        return send(
          res,
          200,
          replies.map((r) => encodeReply(r, base64)),
        );
      }
      const command = path === "/" ? body : pathCommand(path, body);
      if (!isCommand(command)) return send(res, 400, { error: "ERR expected a command array" });
      const reply = await run(redis, command);
      return send(res, "error" in reply ? 400 : 200, encodeReply(reply, base64));
    } catch (err) {
      send(res, 400, { error: `ERR ${(err as Error).message}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        redis.disconnect();
      }),
  };
}

const isCommand = (value: unknown): value is Command =>
  Array.isArray(value) &&
  value.length > 0 &&
  typeof value[0] === "string" &&
  value.every((v) => typeof v === "string" || typeof v === "number");

/** `/set/key/value` form, with an optional body as the last argument. */
function pathCommand(path: string, body: unknown): unknown {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (body !== undefined) parts.push(typeof body === "string" ? body : JSON.stringify(body));
  return parts;
}

async function run(redis: IORedis, [name, ...args]: Command): Promise<Reply> {
  try {
    return { result: await redis.callBuffer(String(name), ...args.map(String)) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function pipeline(redis: IORedis, commands: Command[]): Promise<Reply[]> {
  const results = await redis
    .pipeline(commands.map(([n, ...a]) => ["callBuffer", n, ...a.map(String)]))
    .exec();
  return (results ?? []).map(([err, result]) => (err ? { error: err.message } : { result }));
}

/** MULTI/EXEC on a connection of its own, so no other request's command lands inside the transaction. */
async function multiExec(redis: IORedis, commands: Command[]): Promise<Reply[]> {
  const conn = redis.duplicate({ enableOfflineQueue: true });
  conn.on("error", () => {});
  try {
    const results = await conn.multi(commands.map(([n, ...a]) => ["callBuffer", n, ...a.map(String)])).exec();
    return (results ?? []).map(([err, result]) => (err ? { error: err.message } : { result }));
  } finally {
    conn.disconnect();
  }
}

/** Upstash's encoding: strings (bulk or status) as base64, except the status "OK". */
function encodeReply(reply: Reply, base64: boolean): Reply {
  return "error" in reply ? reply : { result: encodeValue(reply.result, base64) };
}

function encodeValue(value: unknown, base64: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => encodeValue(v, base64));
  // ioredis turns HGETALL into an object; Redis (and Upstash) answer a flat field/value list.
  if (typeof value === "object" && !Buffer.isBuffer(value)) {
    return Object.entries(value).flatMap(([k, v]) => [encodeValue(k, base64), encodeValue(v, base64)]);
  }
  if (Buffer.isBuffer(value) || typeof value === "string") {
    const buf = Buffer.isBuffer(value) ? value : Buffer.from(value);
    if (!base64) return buf.toString("utf8");
    return buf.length === 2 && buf.toString() === "OK" ? "OK" : buf.toString("base64");
  }
  return value;
}

/** Waits for the first connection; a Redis that is down at start is retried in the background. */
function readyOrTimeout(redis: IORedis, ms: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new Error("body is not JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res
    .writeHead(status, { "Content-Type": typeof body === "string" ? "text/plain" : "application/json" })
    .end(text);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const gw = await startRedisGateway({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    token: process.env.UPSTASH_TOKEN ?? "local-dev-token",
    port: Number(process.env.PORT ?? 8079),
    host: process.env.HOST,
  });
  console.log(`upstash REST gateway on ${gw.url}`);
}
