/**
 * The self-hosted stand-in for Cloudflare Queues, on a Redis stream `q:<queue>`.
 * - Producer side, what workerd's Queue binding sends (RUNTIME-NOTES): `POST /message`
 *   (`X-Msg-Fmt: json|text|bytes`; v8 is refused) and `POST /batch` (base64 bodies). Each message
 *   is XADDed before the 200 (waiting out a Redis restart), so a 200 means stored.
 *   Also `GET /stats` and `POST /replay-dlq`. Every route needs `Authorization: Bearer <token>`
 *   (selfhost/internal-auth.ts): a forged `/message` is a forged click.
 * - Consumer side: a loop reads batches through the consumer group `aggregator` and POSTs them to
 *   `consumerUrl` (aggregator/src/push-endpoint.ts), which answers `{acked, retried}`. Acked ids are
 *   XACKed and XDELed only after that answer (after the consumer's commit); retried ids stay pending,
 *   parked in the sorted set `q:<queue>:delayed` until due; deliveries unanswered for
 *   `visibilityTimeoutMs` are taken back with XAUTOCLAIM. `attempts` counts deliveries (hash
 *   `q:<queue>:attempts`); a retry on the (maxRetries+1)-th delivery goes to `q:<queue>-dlq`.
 * - Consumer failing: the batch is retried with backoff and the loop pauses; a refused connection
 *   costs no attempt, so an aggregator outage fills no dead-letter queue.
 *
 * @example
 *   const broker = await startQueueBroker({ redisUrl, token, consumerUrl: "http://127.0.0.1:8090/__queue/clicks", consumerToken });
 *   // workerd: edgeConfig({ queueAddress: `127.0.0.1:${broker.port}`, internalToken: token })
 *   await broker.stats(); // { backlog, pending, deadLetters, oldestAgeSeconds }
 *   await broker.close();
 * CLI: REDIS_URL=… INTERNAL_TOKEN=… CONSUMER_URL=… CONSUMER_TOKEN=… [PORT=8071] [HOST=…] tsx selfhost/queue-broker.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import IORedis, { type ChainableCommander } from "ioredis";
import { bearerCheck } from "./internal-auth";
import { readBody } from "./services/http";

const GROUP = "aggregator";
const MAX_BACKOFF_MS = 60_000;
/** How long a producer request waits for a Redis that is down before it gets a 503. */
const APPEND_TIMEOUT_MS = 30_000;
/** fetch failures that mean the request never reached the consumer. */
const NOT_REACHED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

export type QueueBrokerStats = {
  backlog: number;
  pending: number;
  deadLetters: number;
  oldestAgeSeconds: number;
};
export type QueueBroker = {
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): Promise<QueueBrokerStats>;
  replayDeadLetters(): Promise<number>;
  /** Stores JSON message bodies without the HTTP round or its JSON check: click-shipper.ts checks each line. */
  appendJson(bodies: string[]): Promise<void>;
};

/** A message as stored: its raw text (base64 for bytes) and content type. */
type Stored = { body: string; type: "json" | "text" | "bytes" };
type Message = Stored & { id: string; ts: number; attempts: number };
type Answer = { acked: string[]; retried: Array<{ id: string; delaySeconds: number }> };
type Entry = [id: string, fields: string[]];

export async function startQueueBroker(opts: {
  redisUrl: string;
  port?: number;
  host?: string;
  /** Default "clicks": stream `q:clicks`, dead letters `q:clicks-dlq`. */
  queue?: string;
  /** What producers and operators must present; the broker refuses to start without one. */
  token: string;
  consumerUrl: string;
  consumerToken: string;
  maxBatchSize?: number;
  maxBatchTimeoutMs?: number;
  maxRetries?: number;
  /** An unanswered delivery is delivered again after this (also the consumer request's timeout). */
  visibilityTimeoutMs?: number;
  /** Backoff after a consumer failure: base · 2^(attempts-1), at most 60 s. Default 1000. */
  retryBaseDelayMs?: number;
}): Promise<QueueBroker> {
  const authorized = bearerCheck(opts.token, "queue broker");
  const queue = opts.queue ?? "clicks";
  const [stream, dlq, delayed, attemptsKey] = [
    `q:${queue}`,
    `q:${queue}-dlq`,
    `q:${queue}:delayed`,
    `q:${queue}:attempts`,
  ];
  const maxBatch = opts.maxBatchSize ?? 100;
  const batchTimeout = opts.maxBatchTimeoutMs ?? 1000;
  const maxRetries = opts.maxRetries ?? 5;
  const visibility = opts.visibilityTimeoutMs ?? 30_000;
  const backoff = (n: number) =>
    Math.min(MAX_BACKOFF_MS, (opts.retryBaseDelayMs ?? 1000) * 2 ** Math.max(0, n - 1));
  const consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  const redis = new IORedis(opts.redisUrl);
  // XREADGROUP BLOCK holds its connection, so it gets one of its own.
  const reader = redis.duplicate();
  // While Redis is down, appends wait in the offline queue instead of failing: a click sent during a
  // short Redis restart is stored when Redis is back, and only then answered 200 (workerd sends from
  // waitUntil, so the redirect does not wait). Past APPEND_TIMEOUT_MS the answer is a 503; the queued
  // append still runs once Redis is back, so the message may be stored although its sender saw a failure.
  const producer = new IORedis(opts.redisUrl, { maxRetriesPerRequest: null });
  const connections = [redis, reader, producer];
  for (const conn of connections) conn.on("error", () => {});
  // From "0", not "$": messages appended before the group existed (say Redis came back empty and a
  // producer was first) are delivered too. Acked messages are deleted, so nothing old comes back.
  const ensureGroup = () =>
    redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM").catch((err: Error) => {
      if (!err.message.includes("BUSYGROUP")) throw err;
    });
  try {
    await ensureGroup();
  } catch (err) {
    for (const conn of connections) conn.disconnect();
    throw err;
  }

  async function route(req: IncomingMessage): Promise<[number, unknown]> {
    if (!authorized(req)) return [401, { error: "unauthorized" }];
    const path = new URL(req.url ?? "/", "http://broker").pathname;
    if (req.method === "GET" && path === "/stats") return [200, await stats()];
    if (req.method === "POST" && path === "/replay-dlq")
      return [200, { replayed: await replayDeadLetters() }];
    if (req.method !== "POST" || (path !== "/message" && path !== "/batch"))
      return [404, { error: "not found" }];
    const raw = await readBody(req).catch((err: Error) => {
      throw new BadRequest(err.message);
    });
    const messages = path === "/message" ? [decode(raw, req.headers["x-msg-fmt"])] : decodeBatch(raw);
    const backlogCount = await append(messages);
    // workerd's Queue binding throws in the caller unless the answer has this shape.
    return [200, { metadata: { metrics: { backlogCount, backlogBytes: 0, oldestMessageTimestamp: 0 } } }];
  }

  /** XADDs `messages` in one round trip; returns the stream's length. */
  async function append(messages: Stored[]): Promise<number> {
    const tx = producer.multi();
    const ts = Date.now();
    for (const m of messages) tx.xadd(stream, "*", "body", m.body, "type", m.type, "ts", ts);
    const results = await within(APPEND_TIMEOUT_MS, tx.xlen(stream).exec());
    const failed = results?.find(([err]) => err)?.[0];
    if (!results || failed) throw failed ?? new Error("append aborted");
    return Number(results.at(-1)?.[1] ?? 0);
  }

  // The append is not tied to the request: a client that goes away mid-way still gets its messages stored.
  const server = createServer((req, res) => {
    route(req).then(
      ([status, body]) => send(res, status, body),
      (err: Error) => send(res, err instanceof BadRequest ? 400 : 503, { error: err.message }),
    );
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  let running = true;
  let wake = () => {};
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  let failures = 0; // consecutive batches the consumer did not take
  let cursor = "0-0"; // XAUTOCLAIM walks the whole pending list over successive loops
  const loop = (async () => {
    while (running) {
      try {
        const wait = await deliverOnce();
        if (wait > 0 && running) await pause(wait);
      } catch (err) {
        // Redis restarted empty: the group is gone with the stream.
        if ((err as Error).message?.includes("NOGROUP")) await ensureGroup().catch(() => {});
        if (running) await pause(500);
      }
    }
  })();

  /** Claims, reads and delivers one batch; returns how long to pause before the next. */
  async function deliverOnce(): Promise<number> {
    const entries = await claimDue();
    if (entries.length < maxBatch) entries.push(...(await claimExpired(maxBatch - entries.length)));
    if (entries.length < maxBatch)
      entries.push(...(await readNew(maxBatch - entries.length, !entries.length)));
    if (entries.length === 0) return 0;
    // Counted before the delivery: a broker that dies mid-delivery has still used up an attempt.
    const counts = await redis.pipeline(entries.map(([id]) => ["hincrby", attemptsKey, id, 1])).exec();
    const batch = entries.map((e, i) => toMessage(e, Number(counts?.[i]?.[1] ?? 1)));
    const exhausted = batch.filter((m) => m.attempts > maxRetries + 1);
    // Their last counted delivery never happened; the dead letter records the ones that did.
    const spent = exhausted.map((m) => ({ ...m, attempts: m.attempts - 1 }));
    if (spent.length) await deadLetter(redis.multi(), spent).exec();
    const live = batch.filter((m) => m.attempts <= maxRetries + 1);
    if (live.length === 0) return 0;

    const outcome = await post(live);
    if (typeof outcome === "object") {
      failures = 0;
      await settle(live, outcome);
      return 0;
    }
    const wait = backoff(++failures);
    if (outcome === "unreached") {
      const tx = redis.multi();
      for (const m of live) tx.hincrby(attemptsKey, m.id, -1).zadd(delayed, Date.now() + wait, m.id);
      await tx.exec();
    } else if (outcome === "failed") {
      const retried = live.map((m) => ({ id: m.id, delaySeconds: backoff(m.attempts) / 1000 }));
      await settle(live, { acked: [], retried });
    } // "unanswered": left pending; XAUTOCLAIM takes it back once the visibility timeout has passed.
    return wait;
  }

  /** Retried messages whose delay has passed. */
  async function claimDue(): Promise<Entry[]> {
    const ids = await redis.zrangebyscore(delayed, "-inf", Date.now(), "LIMIT", 0, maxBatch);
    if (ids.length === 0) return [];
    // ZREM decides who takes an id when two brokers run side by side (a rolling restart).
    const removed = await redis.pipeline(ids.map((id) => ["zrem", delayed, id])).exec();
    const mine = ids.filter((_, i) => removed?.[i]?.[1] === 1);
    return mine.length ? entriesOf(await redis.xclaim(stream, GROUP, consumer, 0, ...mine)) : [];
  }

  /** Deliveries unanswered for the visibility timeout, except retries still waiting out a longer delay. */
  async function claimExpired(count: number): Promise<Entry[]> {
    const reply = await redis.xautoclaim(stream, GROUP, consumer, visibility, cursor, "COUNT", count);
    const [next, claimed] = reply as [string, unknown];
    cursor = next;
    const entries = entriesOf(claimed);
    if (entries.length === 0) return [];
    // The claim reset their idle time, so a parked retry is looked at again only after another timeout.
    const parked = await redis.zmscore(delayed, ...entries.map(([id]) => id));
    return entries.filter((_, i) => parked[i] === null);
  }

  async function readNew(count: number, block: boolean): Promise<Entry[]> {
    const wait = block ? ["BLOCK", batchTimeout] : [];
    const args = ["GROUP", GROUP, consumer, "COUNT", count, ...wait, "STREAMS", stream, ">"];
    const res = (await reader.call("XREADGROUP", ...args)) as Array<[string, unknown]> | null;
    return entriesOf(res?.[0]?.[1]);
  }

  async function post(batch: Message[]): Promise<Answer | "unreached" | "failed" | "unanswered"> {
    const s = await stats();
    let res: Response;
    try {
      res = await fetch(opts.consumerUrl, {
        method: "POST",
        headers: { Authorization: `Bearer ${opts.consumerToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          messages: batch.map(({ id, attempts, ts, ...m }) => ({
            id,
            body: parseBody(m),
            attempts,
            timestamp: ts,
          })),
          backlog: { [queue]: s.backlog + s.pending, [`${queue}-dlq`]: s.deadLetters },
          lagSeconds: s.oldestAgeSeconds,
        }),
        // Past the visibility timeout the batch is due for redelivery anyway.
        signal: AbortSignal.timeout(visibility),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? "";
      return NOT_REACHED.has(code) ? "unreached" : "unanswered";
    }
    const answer = (await res.json().catch(() => undefined)) as Partial<Answer> | undefined;
    if (!res.ok || !Array.isArray(answer?.acked) || !Array.isArray(answer?.retried)) return "failed";
    return answer as Answer;
  }

  /** Applies the consumer's answer; ids it did not mention stay pending until the visibility timeout. */
  async function settle(batch: Message[], answer: Answer): Promise<void> {
    const byId = new Map(batch.map((m) => [m.id, m]));
    const acked = new Set(answer.acked.map(String).filter((id) => byId.has(id)));
    const tx = redis.multi();
    if (acked.size)
      tx.xack(stream, GROUP, ...acked)
        .xdel(stream, ...acked)
        .hdel(attemptsKey, ...acked);
    const dead: Message[] = [];
    for (const { id, delaySeconds } of answer.retried) {
      const m = byId.get(String(id));
      if (!m || acked.has(m.id)) continue;
      if (m.attempts > maxRetries) dead.push(m);
      else tx.zadd(delayed, Date.now() + Math.max(0, Number(delaySeconds) || 0) * 1000, m.id);
    }
    await deadLetter(tx, dead).exec();
  }

  function deadLetter(tx: ChainableCommander, batch: Message[]): ChainableCommander {
    for (const m of batch) {
      tx.xadd(dlq, "*", "body", m.body, "type", m.type, "ts", m.ts, "id", m.id, "attempts", m.attempts)
        .xack(stream, GROUP, m.id)
        .xdel(stream, m.id)
        .hdel(attemptsKey, m.id)
        .zrem(delayed, m.id);
    }
    return tx;
  }

  /** Moves every dead letter back into the stream under a new id, so its attempts start again. */
  async function replayDeadLetters(): Promise<number> {
    let replayed = 0;
    for (;;) {
      const entries = entriesOf(await redis.xrange(dlq, "-", "+", "COUNT", 500));
      if (entries.length === 0) return replayed;
      const tx = redis.multi();
      for (const [id, fields] of entries) {
        const { body = "null", type = "json", ts = String(Date.now()) } = fieldMap(fields);
        tx.xadd(stream, "*", "body", body, "type", type, "ts", ts).xdel(dlq, id);
      }
      await tx.exec();
      replayed += entries.length;
    }
  }

  async function stats(): Promise<QueueBrokerStats> {
    const commands = [
      ["xlen", stream],
      ["xpending", stream, GROUP],
      ["xlen", dlq],
      ["xrange", stream, "-", "+", "COUNT", 1],
    ];
    const results = await redis.pipeline(commands).exec();
    const [length, summary, deadLetters, first] = (results ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    }) as [number, [number], number, Entry[]];
    const pending = Number(summary[0] ?? 0);
    const oldest = first[0]?.[0]; // acked messages are deleted, so the first entry is the oldest unacked
    const oldestAgeSeconds = oldest ? Math.max(0, Date.now() - Number(oldest.split("-")[0])) / 1000 : 0;
    return { backlog: Math.max(0, length - pending), pending, deadLetters, oldestAgeSeconds };
  }

  let closing: Promise<void> | undefined;
  const close = async () => {
    running = false;
    wake();
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 2000);
    await Promise.all([loop, serverClosed]); // the in-flight batch finishes (bounded by the visibility timeout)
    clearTimeout(force);
    // A consumer name per start: forget ours unless it still owns pending (parked) messages.
    const info = (await redis.xinfo("CONSUMERS", stream, GROUP).catch(() => [])) as string[][];
    const ours = info.map(fieldMap).find((c) => c.name === consumer);
    if (ours && Number(ours.pending) === 0)
      await redis.xgroup("DELCONSUMER", stream, GROUP, consumer).catch(() => {});
    for (const conn of connections) conn.disconnect();
  };
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    stats,
    replayDeadLetters,
    appendJson: async (bodies) => {
      await append(bodies.map((body) => ({ body, type: "json" })));
    },
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

class BadRequest extends Error {}

/** One message body in the format workerd announced; v8 (the default without a format) is refused. */
function decode(raw: Buffer, format: string | string[] | undefined): Stored {
  if (format === "json") {
    const text = raw.toString("utf8");
    try {
      JSON.parse(text);
    } catch {
      throw new BadRequest("message body is not valid JSON");
    }
    return { body: text, type: "json" };
  }
  if (format === "text") return { body: raw.toString("utf8"), type: "text" };
  if (format === "bytes") return { body: raw.toString("base64"), type: "bytes" };
  throw new BadRequest(`message format ${format ?? "v8"} is not supported: send with contentType "json"`);
}

function decodeBatch(raw: Buffer): Stored[] {
  let parsed: { messages?: Array<{ body?: unknown; contentType?: string }> };
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new BadRequest("batch is not valid JSON");
  }
  if (!Array.isArray(parsed?.messages)) throw new BadRequest("batch.messages must be a list");
  return parsed.messages.map((m) => decode(Buffer.from(String(m?.body ?? ""), "base64"), m?.contentType));
}

function parseBody(m: Stored): unknown {
  if (m.type !== "json") return m.body;
  try {
    return JSON.parse(m.body);
  } catch {
    return m.body;
  }
}

function toMessage([id, fields]: Entry, attempts: number): Message {
  const f = fieldMap(fields);
  const type = f.type === "text" || f.type === "bytes" ? f.type : "json";
  return { id, body: f.body ?? "null", type, ts: Number(f.ts) || Date.now(), attempts };
}

/** Stream entries from a reply, without the holes older Redis versions leave for deleted ids. */
const entriesOf = (reply: unknown): Entry[] =>
  (Array.isArray(reply) ? reply : []).filter((e): e is Entry => Array.isArray(e) && Array.isArray(e[1]));

function fieldMap(fields: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[String(fields[i])] = String(fields[i + 1]);
  return out;
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { CONSUMER_URL, CONSUMER_TOKEN } = process.env;
  if (!CONSUMER_URL || !CONSUMER_TOKEN) {
    throw new Error("set CONSUMER_URL (e.g. http://127.0.0.1:8090/__queue/clicks) and CONSUMER_TOKEN");
  }
  const broker = await startQueueBroker({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    port: Number(process.env.PORT ?? 8071),
    host: process.env.HOST,
    token: process.env.INTERNAL_TOKEN ?? "",
    consumerUrl: CONSUMER_URL,
    consumerToken: CONSUMER_TOKEN,
  });
  console.log(`queue broker on ${broker.url} → ${CONSUMER_URL}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void broker.close().then(() => process.exit(0)));
  }
}
