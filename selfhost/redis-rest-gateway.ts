/**
 * An Upstash-REST-compatible gateway over a real redis-server, so @upstash/redis and
 * @upstash/ratelimit run unchanged in local runs, tests and self-host. It only
 * translates: every command goes to Redis as it came.
 *
 * Protocol, as @upstash/redis 1.39 speaks it:
 * - `POST /` with `["SET","k","v"]` → 200 `{"result": …}`, or 400 `{"error": "ERR …"}`.
 * - `POST /pipeline` and `POST /multi-exec` with a list of commands → 200 and a list of
 *   `{result}`/`{error}`; multi-exec runs as MULTI/EXEC on a connection of its own.
 * - `GET|POST /set/k/v?EX=60`: URL-decoded path segments, then query pairs, then the body.
 * - `Authorization: Bearer <token>`, else 401 `{"error":"Unauthorized"}`. `GET /health` needs none.
 * - With `Upstash-Encoding: base64` every string in a result is base64, except a top-level "OK".
 *
 * @example
 *   const gw = await startRedisGateway({ redisUrl: "redis://127.0.0.1:6379", token: "t" });
 *   const redis = new Redis({ url: gw.url, token: "t" }); // @upstash/redis
 *   await gw.close();
 * CLI: REDIS_URL=redis://127.0.0.1:6379 UPSTASH_TOKEN=… [PORT=8079] [HOST=0.0.0.0] tsx selfhost/redis-rest-gateway.ts
 */
import type { IncomingMessage } from "node:http";
import IORedis, { ReplyError } from "ioredis";
import { runServiceIfMain } from "./entry-point";
import { type Answer, type ServiceHandle, startHttpService } from "./http-service";
import { requireToken } from "./internal-auth";
import { readBody } from "./services/http";

type Command = [name: string, ...args: string[]];
type Reply = { result: unknown } | { error: string };

const words = (list: string) => new Set(list.trim().split(/\s+/));
/** Commands that would change the shared connection for every later request. */
const CONNECTION_STATE =
  words(`AUTH HELLO SELECT RESET QUIT MULTI EXEC DISCARD WATCH UNWATCH MONITOR SYNC PSYNC
  SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE`);
const CONNECTION_STATE_CLIENT = words("REPLY TRACKING CACHING SETNAME SETINFO NO-EVICT NO-TOUCH");
/** Commands that can wait on the server; on the shared connection they would stall every request behind them. */
const BLOCKING = words("BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP WAIT WAITAOF");

/** Starts the gateway (127.0.0.1 and a free port unless given); `close()` stops it and its Redis connection. */
export async function startRedisGateway(opts: {
  redisUrl: string;
  token: string;
  port?: number;
  host?: string;
}): Promise<ServiceHandle> {
  const token = requireToken(opts.token, "redis gateway");
  // No offline queue and no retries: while Redis is down, commands fail at once
  // instead of piling up, so callers reach their fail-open path quickly.
  const redis = new IORedis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  await readyOrTimeout(redis, 5000);

  const handle = async (req: IncomingMessage): Promise<Answer> => {
    const url = new URL(req.url ?? "/", "http://gateway");
    if (url.pathname === "/health") return [200, "ok"];
    const base64 = req.headers["upstash-encoding"]?.toString().toLowerCase() === "base64";
    const body = await readBody(req).catch((err: Error) => {
      throw new BadRequest(err.message);
    });

    if (url.pathname === "/pipeline" || url.pathname === "/multi-exec") {
      const commands = parseJson(body);
      if (!Array.isArray(commands) || commands.length === 0 || !commands.every(isCommand)) {
        return [400, { error: "ERR expected a non-empty JSON array of commands" }];
      }
      const names = commands.map(toCommand);
      const refused = names.map(refusal).find(Boolean);
      if (refused) return [400, { error: refused }];
      const replies: Reply[] =
        url.pathname === "/multi-exec"
          ? await withOwnConnection(redis, (conn) => multiExec(conn, names))
          : names.some(isBlocking)
            ? await withOwnConnection(redis, (conn) => pipeline(conn, names))
            : await pipeline(redis, names);
      return [200, replies.map((reply) => encode(reply, base64))];
    }

    const command = url.pathname === "/" ? parseJson(body) : pathCommand(url, body);
    if (!isCommand(command)) return [400, { error: 'ERR expected a JSON array command such as ["GET","k"]' }];
    const normalized = toCommand(command);
    const refused = refusal(normalized);
    if (refused) return [400, { error: refused }];
    const reply = isBlocking(normalized)
      ? await withOwnConnection(redis, (conn) => run(conn, normalized))
      : await run(redis, normalized);
    return "error" in reply ? [400, reply] : [200, encode(reply, base64)];
  };

  const http = await startHttpService({
    port: opts.port,
    host: opts.host,
    auth: {
      token,
      service: "redis gateway",
      refusal: [401, { error: "Unauthorized" }],
      open: (path) => path === "/health",
    },
    handle,
    onError: failure,
  }).catch((err) => {
    redis.disconnect();
    throw err;
  });
  return {
    ...http,
    close: async () => {
      redis.disconnect();
      await http.close();
    },
  };
}

/** Why a command is not forwarded: it would change or block the connection other requests share. */
function refusal([name, sub]: Command): string | undefined {
  const refused = CONNECTION_STATE.has(name) || (name === "CLIENT" && CONNECTION_STATE_CLIENT.has(sub ?? ""));
  if (refused) return `ERR ${name}${name === "CLIENT" ? ` ${sub}` : ""} is not supported over REST`;
}

const isBlocking = ([name, ...args]: Command) =>
  BLOCKING.has(name) ||
  ((name === "XREAD" || name === "XREADGROUP") && args.some((a) => a.toUpperCase() === "BLOCK"));

/** The client sends strings, numbers and booleans (its serializer passes them through). */
const isCommand = (value: unknown): value is Array<string | number | boolean> =>
  Array.isArray(value) &&
  value.length > 0 &&
  typeof value[0] === "string" &&
  value.every((v) => ["string", "number", "boolean"].includes(typeof v));

/**
 * Upper-cases the name: ioredis looks up reply transformers by exact name, and its
 * `hgetall` one turns the flat field/value list into an object, losing binary field
 * names and order. Redis itself does not care about case.
 */
const toCommand = ([name, ...args]: Array<string | number | boolean>): Command => [
  String(name).toUpperCase(),
  ...args.map(String),
];

/** `/set/key/value?EX=60` → `SET key value EX 60`, with a non-empty body as the last argument. */
function pathCommand(url: URL, body: Buffer): string[] {
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  for (const [key, value] of url.searchParams) parts.push(...(value ? [key, value] : [key]));
  if (body.length > 0) parts.push(body.toString("utf8"));
  return parts;
}

/** Redis's own refusal becomes `{error}`; anything else (Redis unreachable) is thrown. */
async function run(redis: IORedis, [name, ...args]: Command): Promise<Reply> {
  try {
    return { result: await redis.callBuffer(name, ...args) };
  } catch (err) {
    if (err instanceof ReplyError) return { error: (err as Error).message };
    throw err;
  }
}

async function pipeline(redis: IORedis, commands: Command[]): Promise<Reply[]> {
  return toReplies(await redis.pipeline(commands.map((c) => ["callBuffer", ...c])).exec());
}

/** MULTI/EXEC; a command Redis refuses while queueing aborts the whole transaction (EXECABORT). */
async function multiExec(conn: IORedis, commands: Command[]): Promise<Reply[]> {
  return toReplies(await conn.multi(commands.map((c) => ["callBuffer", ...c])).exec());
}

function toReplies(results: Array<[Error | null, unknown]> | null): Reply[] {
  return (results ?? []).map(([err, result]) => {
    if (!err) return { result };
    if (err instanceof ReplyError) return { error: err.message };
    throw err;
  });
}

/** A short-lived connection for work that must not share one: transactions and blocking commands. */
async function withOwnConnection<T>(redis: IORedis, work: (conn: IORedis) => Promise<T>): Promise<T> {
  const conn = redis.duplicate({ lazyConnect: true, retryStrategy: () => null });
  conn.on("error", () => {});
  try {
    await conn.connect();
    return await work(conn);
  } finally {
    conn.disconnect();
  }
}

class BadRequest extends Error {}

/** A bad request or Redis refusing a whole request (EXECABORT) is a 400, as Upstash answers; Redis unreachable is a 503. */
function failure(err: Error): Answer {
  if (err instanceof BadRequest) return [400, { error: `ERR ${err.message}` }];
  if (err instanceof ReplyError) {
    const causes = ((err as { previousErrors?: Error[] }).previousErrors ?? []).map((e) => e.message);
    return [400, { error: [err.message, ...causes].join(" ") }];
  }
  return [503, { error: `ERR Redis unavailable: ${err.message}` }];
}

/**
 * Mirrors the client's decoder: it base64-decodes every string except a top-level
 * "OK", so a nested "OK" (say inside EXEC or an EVAL table) must be encoded too.
 */
function encode(reply: Reply, base64: boolean): Reply {
  return "error" in reply ? reply : { result: encodeValue(reply.result, base64, true) };
}

function encodeValue(value: unknown, base64: boolean, topLevel: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (Array.isArray(value)) return value.map((v) => encodeValue(v, base64, false));
  // An error nested in an array reply (e.g. a Lua table holding one) has no JSON form of its own.
  const buf = Buffer.isBuffer(value)
    ? value
    : Buffer.from(value instanceof Error ? value.message : String(value));
  if (!base64) return buf.toString("utf8");
  return topLevel && buf.equals(OK) ? "OK" : buf.toString("base64");
}
const OK = Buffer.from("OK");

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

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new BadRequest("request body is not valid JSON");
  }
}

await runServiceIfMain(import.meta.url, { port: 8079 }, async (env) => {
  const token = env.require("UPSTASH_TOKEN", "the token clients send as `Authorization: Bearer …`");
  const gw = await startRedisGateway({ redisUrl: env.redisUrl, token, port: env.port, host: env.host });
  return { service: gw, started: `Upstash REST gateway on ${gw.url} → ${env.redisUrl}` };
});
