/**
 * The self-hosted stand-in for Cloudflare Queues, on a Redis stream.
 * - Producer side: answers workerd's Queue binding (`POST /message`, `POST /batch`, see
 *   RUNTIME-NOTES) and appends each message to `q:<queue>` before answering.
 * - Consumer side: reads batches through a consumer group and POSTs them to the
 *   aggregator's `/__queue/<queue>`, which answers which ids to ack and which to retry.
 *   Acks happen only after that answer (after the database commit); retried and
 *   never-answered deliveries come back after their delay or the visibility timeout;
 *   after `maxRetries` a message moves to `q:<queue>-dlq`.
 *
 * @example
 *   const broker = await startQueueBroker({ redisUrl, consumerUrl: "http://127.0.0.1:8090/__queue/clicks", consumerToken });
 *   // workerd: (name = "qstore", external = (address = "127.0.0.1:" + broker.port, http = ()))
 * CLI: REDIS_URL=… PORT=8071 CONSUMER_URL=… CONSUMER_TOKEN=… tsx selfhost/queue-broker.ts
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import IORedis from "ioredis";
import { readBody } from "./services/http";

const GROUP = "aggregator";

export type BrokerOptions = {
  redisUrl: string;
  consumerUrl: string;
  consumerToken: string;
  port?: number;
  host?: string;
  queue?: string;
  maxBatchSize?: number;
  maxBatchTimeoutMs?: number;
  maxRetries?: number;
  /** A delivery neither acked nor retried within this is delivered again (the consumer died). */
  visibilityTimeoutMs?: number;
};

export async function startQueueBroker(opts: BrokerOptions) {
  const queue = opts.queue ?? "clicks";
  const stream = `q:${queue}`;
  const dlq = `q:${queue}-dlq`;
  const notBefore = `q:${queue}:not-before`;
  const maxBatch = opts.maxBatchSize ?? 100;
  const batchTimeout = opts.maxBatchTimeoutMs ?? 1000;
  const maxRetries = opts.maxRetries ?? 5;
  const visibility = opts.visibilityTimeoutMs ?? 30_000;
  const consumer = `broker-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  const redis = new IORedis(opts.redisUrl, { maxRetriesPerRequest: null });
  const reader = redis.duplicate();
  // Appends fail at once while Redis is down (no offline queue), so the spool below takes over.
  // Auto-pipelining folds the appends of concurrent requests into one round trip to Redis.
  const producer = new IORedis(opts.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
  });
  for (const r of [redis, reader, producer]) r.on("error", () => {});
  await redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM").catch(() => {});

  /**
   * Messages accepted while Redis was unreachable, appended once it is back: redirects
   * keep their clicks through a Redis outage (lost only if the broker itself dies meanwhile).
   */
  const spool: Array<{ body: string; ts: number }> = [];
  const append = async (messages: Array<{ body: string; ts: number }>) => {
    await Promise.all(messages.map((m) => producer.xadd(stream, "*", "body", m.body, "ts", m.ts)));
  };
  const flushSpool = async () => {
    while (spool.length) {
      const chunk = spool.slice(0, 500);
      await append(chunk);
      spool.splice(0, chunk.length);
    }
  };
  producer.on("ready", () => void flushSpool().catch(() => {}));
  const spoolTimer = setInterval(() => void flushSpool().catch(() => {}), 1000);

  // Producer side.
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://broker");
      if (req.method === "GET" && url.pathname === "/stats")
        return void res.writeHead(200).end(JSON.stringify(await stats()));
      if (req.method === "POST" && url.pathname === "/replay-dlq") {
        return void res.writeHead(200).end(JSON.stringify({ replayed: await replayDeadLetters() }));
      }
      const body = await readBody(req);
      let messages: string[];
      if (url.pathname === "/message") messages = [body.toString("utf8")];
      else if (url.pathname === "/batch") messages = decodeBatch(body);
      else return void res.writeHead(404).end();
      const accepted = messages.map((body) => ({ body, ts: Date.now() }));
      if (spool.length) spool.push(...accepted);
      else await append(accepted).catch(() => spool.push(...accepted));
      // workerd's Queue binding throws unless the answer has this shape.
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: 0 } },
        }),
      );
    } catch (err) {
      res.writeHead(err instanceof BadRequest ? 400 : 503).end((err as Error).message);
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  // Consumer side.
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await deliverOnce();
      } catch {
        await sleep(500);
      }
    }
  })();

  async function deliverOnce(): Promise<void> {
    const due = await reclaim();
    const fresh =
      due.length < maxBatch ? await readNew(maxBatch - due.length, due.length ? 1 : batchTimeout) : [];
    const batch = [...due, ...fresh];
    if (batch.length === 0) return;
    const counts = await deliveryCounts(batch.map((m) => m.id));
    const dead = batch.filter((m) => (counts.get(m.id) ?? 1) > maxRetries + 1);
    for (const m of dead) await deadLetter(m, counts.get(m.id) ?? 0);
    const live = batch.filter((m) => !dead.includes(m));
    if (live.length === 0) return;
    const s = await stats();
    let answer: { acked: string[]; retried: Array<{ id: string; delaySeconds: number }> };
    try {
      const res = await fetch(opts.consumerUrl, {
        method: "POST",
        headers: { Authorization: `Bearer ${opts.consumerToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          messages: live.map((m) => ({
            id: m.id,
            body: m.body,
            attempts: counts.get(m.id) ?? 1,
            timestamp: m.ts,
          })),
          backlog: { [queue]: s.backlog + s.pending, [`${queue}-dlq`]: s.deadLetters },
          lagSeconds: s.oldestAgeSeconds,
        }),
      });
      if (!res.ok) throw new Error(`consumer answered ${res.status}`);
      answer = (await res.json()) as typeof answer;
    } catch {
      // Consumer unreachable: every message waits and comes back with backoff.
      answer = {
        acked: [],
        retried: live.map((m) => ({ id: m.id, delaySeconds: backoffSeconds(counts.get(m.id) ?? 1) })),
      };
      await sleep(200);
    }
    const multi = redis.multi();
    if (answer.acked.length)
      multi
        .xack(stream, GROUP, ...answer.acked)
        .xdel(stream, ...answer.acked)
        .hdel(notBefore, ...answer.acked);
    for (const r of answer.retried) multi.hset(notBefore, r.id, Date.now() + r.delaySeconds * 1000);
    await multi.exec();
  }

  /** Pending deliveries that are due again: retried ones past their delay, or never answered within the visibility timeout. */
  async function reclaim(): Promise<Message[]> {
    const pending = (await redis.xpending(stream, GROUP, "-", "+", maxBatch * 4)) as Array<
      [string, string, number, number]
    >;
    if (pending.length === 0) return [];
    const times = await redis.hmget(notBefore, ...pending.map((p) => p[0]));
    const now = Date.now();
    const due = pending
      .filter(([, , idle], i) => {
        const at = times[i];
        return at ? Number(at) <= now : idle >= visibility;
      })
      .map((p) => p[0])
      .slice(0, maxBatch);
    if (due.length === 0) return [];
    const claimed = (await redis.xclaim(stream, GROUP, consumer, 0, ...due)) as RawEntry[];
    await redis.hdel(notBefore, ...due);
    return claimed.filter((e) => e?.[1]).map(toMessage);
  }

  async function readNew(count: number, blockMs: number): Promise<Message[]> {
    const res = (await reader.xreadgroup(
      "GROUP",
      GROUP,
      consumer,
      "COUNT",
      count,
      "BLOCK",
      blockMs,
      "STREAMS",
      stream,
      ">",
    )) as Array<[string, RawEntry[]]> | null;
    return (res?.[0]?.[1] ?? []).map(toMessage);
  }

  /** How often each message was delivered, from one XPENDING over the batch's id range. */
  async function deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const sorted = [...ids].sort(compareIds);
    const pending = (await redis.xpending(
      stream,
      GROUP,
      sorted[0] as string,
      sorted.at(-1) as string,
      100_000,
    )) as Array<[string, string, number, number]>;
    const wanted = new Set(ids);
    return new Map(pending.filter((p) => wanted.has(p[0])).map((p) => [p[0], p[3]]));
  }

  async function deadLetter(m: Message, attempts: number): Promise<void> {
    await redis
      .multi()
      .xadd(dlq, "*", "body", JSON.stringify(m.body), "ts", m.ts, "id", m.id, "attempts", attempts)
      .xack(stream, GROUP, m.id)
      .xdel(stream, m.id)
      .hdel(notBefore, m.id)
      .exec();
  }

  async function replayDeadLetters(): Promise<number> {
    const entries = (await redis.xrange(dlq, "-", "+")) as RawEntry[];
    for (const [id, fields] of entries) {
      const f = fieldMap(fields);
      await redis
        .multi()
        .xadd(stream, "*", "body", f.body ?? "null", "ts", f.ts ?? Date.now())
        .xdel(dlq, id)
        .exec();
    }
    return entries.length;
  }

  async function stats() {
    const [length, summary, deadLetters] = await Promise.all([
      redis.xlen(stream),
      redis.xpending(stream, GROUP) as Promise<[number, string | null, string | null, unknown]>,
      redis.xlen(dlq),
    ]);
    const oldest = summary[1];
    const pending = Number(summary[0] ?? 0);
    return {
      backlog: Math.max(0, length - pending),
      pending,
      deadLetters,
      oldestAgeSeconds: oldest ? Math.max(0, (Date.now() - Number(oldest.split("-")[0])) / 1000) : 0,
    };
  }

  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    stats,
    replayDeadLetters,
    /** Messages held in memory while Redis is unreachable. */
    spooled: () => spool.length,
    async close() {
      running = false;
      clearInterval(spoolTimer);
      await flushSpool().catch(() => {});
      producer.disconnect();
      reader.disconnect();
      await loop;
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      redis.disconnect();
    },
  };
}

type RawEntry = [string, string[]];
type Message = { id: string; body: unknown; ts: number };

class BadRequest extends Error {}

const fieldMap = (fields: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string;
  return out;
};

function toMessage([id, fields]: RawEntry): Message {
  const f = fieldMap(fields);
  let body: unknown = f.body;
  try {
    body = JSON.parse(f.body ?? "null");
  } catch {
    // a text message stays text; the consumer decides what is malformed
  }
  return { id, body, ts: Number(f.ts ?? Date.now()) };
}

/** `POST /batch` bodies: base64-encoded messages, JSON or text. */
function decodeBatch(raw: Buffer): string[] {
  const parsed = JSON.parse(raw.toString("utf8")) as {
    messages?: Array<{ body: string; contentType?: string }>;
  };
  if (!Array.isArray(parsed.messages)) throw new BadRequest("messages must be a list");
  return parsed.messages.map((m) => {
    if (m.contentType === "v8") throw new BadRequest("v8-serialized messages are not supported; send JSON");
    const text = Buffer.from(m.body, "base64").toString("utf8");
    return m.contentType === "text" ? JSON.stringify(text) : text;
  });
}

/** Stream ids are "ms-seq": compare numerically, not as strings. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am - bm || as - bs;
}

const backoffSeconds = (attempts: number) => Math.min(60, 2 ** Math.max(0, attempts - 1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const broker = await startQueueBroker({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    port: Number(process.env.PORT ?? 8071),
    host: process.env.HOST,
    consumerUrl: process.env.CONSUMER_URL ?? "http://127.0.0.1:8090/__queue/clicks",
    consumerToken: process.env.CONSUMER_TOKEN ?? "",
  });
  console.log(`queue broker on ${broker.url}`);
}
