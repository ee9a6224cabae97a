/**
 * The queue broker's Redis side (selfhost/queue-broker.ts): the stream `q:<queue>` read through the
 * consumer group `aggregator`, retries parked in the sorted set `q:<queue>:delayed` until due,
 * deliveries counted in the hash `q:<queue>:attempts`, and dead letters in the stream `q:<queue>-dlq`.
 * Every operation that changes more than one key runs in one MULTI, so a broker killed between two
 * steps leaves no message both acked and parked.
 *
 * @example
 *   const store = await StreamStore.open({ redisUrl, queue: "clicks", maxRetries: 5, visibilityTimeoutMs: 30_000, readBlockMs: 1000, fillMs: 250 });
 *   await store.append([{ body: '{"slug":"a"}', type: "json" }]);
 *   const batch = await store.take(100);   // due retries, expired deliveries, then new messages
 *   await store.settle(batch, { acked: batch.map((m) => m.id), retried: [] });
 */
import { hostname } from "node:os";
import IORedis, { type ChainableCommander } from "ioredis";

const GROUP = "aggregator";
/** How long a producer request waits for a Redis that is down before it gets a 503. */
const APPEND_TIMEOUT_MS = 30_000;

export type QueueBrokerStats = {
  backlog: number;
  pending: number;
  deadLetters: number;
  oldestAgeSeconds: number;
};
/**
 * A message as stored: its raw text (base64 for bytes) and content type. A `batch` entry holds
 * several JSON bodies, one per line (appendBatch): what the click shipper read in one go.
 */
export type Stored = { body: string; type: "json" | "text" | "bytes" | "batch" };
export type Message = Stored & { id: string; ts: number; attempts: number };
/** What the consumer answered for a batch. */
export type Answer = { acked: string[]; retried: Array<{ id: string; delaySeconds: number }> };
type Entry = [id: string, fields: string[]];

export type StreamStoreOptions = {
  redisUrl: string;
  queue: string;
  maxRetries: number;
  /** An unanswered delivery is taken back after this. */
  visibilityTimeoutMs: number;
  /** How long `take` waits for new messages when it found nothing else. */
  readBlockMs: number;
  /**
   * Once `take` has new messages, how long it waits for more until it has `max` (Cloudflare's
   * max_batch_timeout); 0 takes what is there. Each delivery costs the consumer a request and a
   * transaction and the broker several Redis round trips, whatever its size.
   */
  fillMs: number;
};

export class StreamStore {
  private readonly stream: string;
  private readonly dlq: string;
  private readonly delayed: string;
  private readonly attemptsKey: string;
  // A consumer name per start, so two brokers side by side (a rolling restart) never share one.
  private readonly consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly redis: IORedis;
  // XREADGROUP BLOCK holds its connection, so it gets one of its own.
  private readonly reader: IORedis;
  // While Redis is down, appends wait in the offline queue instead of failing: a click sent during a
  // short Redis restart is stored when Redis is back, and only then answered 200 (workerd sends from
  // waitUntil, so the redirect does not wait). Past APPEND_TIMEOUT_MS the answer is a 503; the queued
  // append still runs once Redis is back, so the message may be stored although its sender saw a failure.
  private readonly producer: IORedis;
  private cursor = "0-0"; // XAUTOCLAIM walks the whole pending list over successive takes

  /** Connects to Redis and creates the consumer group; rejects (connections closed) if Redis refuses. */
  static async open(opts: StreamStoreOptions): Promise<StreamStore> {
    const store = new StreamStore(opts);
    try {
      await store.ensureGroup();
    } catch (err) {
      store.disconnect();
      throw err;
    }
    return store;
  }

  private constructor(private readonly opts: StreamStoreOptions) {
    const q = opts.queue;
    [this.stream, this.dlq, this.delayed, this.attemptsKey] = [
      `q:${q}`,
      `q:${q}-dlq`,
      `q:${q}:delayed`,
      `q:${q}:attempts`,
    ];
    this.redis = new IORedis(opts.redisUrl);
    this.reader = this.redis.duplicate();
    this.producer = new IORedis(opts.redisUrl, { maxRetriesPerRequest: null });
    for (const conn of this.connections()) conn.on("error", () => {});
  }

  /**
   * Creates the group unless it exists; also after Redis restarted empty (the group went with the stream).
   * From "0", not "$": messages appended before the group existed (say Redis came back empty and a
   * producer was first) are delivered too. Acked messages are deleted, so nothing old comes back.
   */
  async ensureGroup(): Promise<void> {
    await this.redis.xgroup("CREATE", this.stream, GROUP, "0", "MKSTREAM").catch((err: Error) => {
      if (!err.message.includes("BUSYGROUP")) throw err;
    });
  }

  /** XADDs `messages` in one round trip; returns the stream's length. */
  async append(messages: Stored[]): Promise<number> {
    const tx = this.producer.multi();
    const ts = Date.now();
    for (const m of messages) tx.xadd(this.stream, "*", "body", m.body, "type", m.type, "ts", ts);
    const results = await within(APPEND_TIMEOUT_MS, tx.xlen(this.stream).exec());
    const failed = results?.find(([err]) => err)?.[0];
    if (!results || failed) throw failed ?? new Error("append aborted");
    return Number(results.at(-1)?.[1] ?? 0);
  }

  /**
   * Stores JSON bodies already checked (one line each) as one entry: one XADD, one delivery count
   * and one ack for the lot instead of one of each per click (entryMessages explains the ids).
   */
  async appendBatch(bodies: string[]): Promise<void> {
    if (bodies.length === 0) return;
    // A line break in JSON text can only be whitespace: a space keeps the body's meaning and the entry's lines.
    const lines = bodies.map((body) => (body.includes("\n") ? body.replaceAll("\n", " ") : body));
    const entry = ["body", lines.join("\n"), "type", "batch", "ts", Date.now()];
    await within(APPEND_TIMEOUT_MS, this.producer.xadd(this.stream, "*", ...entry));
  }

  /**
   * Up to `max` messages to deliver (a batch entry counts its bodies), each with this delivery counted: retries now due, deliveries
   * unanswered past the visibility timeout, then new ones (waiting `readBlockMs` if there are none).
   * Messages past their last retry go to the dead letters instead.
   */
  async take(max: number): Promise<Message[]> {
    const entries = await this.claimDue(max);
    if (entries.length < max) entries.push(...(await this.claimExpired(max - entries.length)));
    if (entries.length < max) entries.push(...(await this.readNew(max - entries.length, !entries.length)));
    if (entries.length === 0) return [];
    // Counted before the delivery: a broker that dies mid-delivery has still used up an attempt.
    const counts = await this.redis
      .pipeline(entries.map(([id]) => ["hincrby", this.attemptsKey, id, 1]))
      .exec();
    const batch = entries.map((e, i) => toMessage(e, Number(counts?.[i]?.[1] ?? 1)));
    // Their last counted delivery never happened; the dead letter records the ones that did.
    const spent = batch
      .filter((m) => m.attempts > this.opts.maxRetries + 1)
      .map((m) => ({ ...m, attempts: m.attempts - 1 }));
    if (spent.length) await this.deadLetter(this.redis.multi(), spent).exec();
    return batch.filter((m) => m.attempts <= this.opts.maxRetries + 1);
  }

  /** Retried messages whose delay has passed. */
  private async claimDue(max: number): Promise<Entry[]> {
    const ids = await this.redis.zrangebyscore(this.delayed, "-inf", Date.now(), "LIMIT", 0, max);
    if (ids.length === 0) return [];
    // ZREM decides who takes an id when two brokers run side by side (a rolling restart).
    const removed = await this.redis.pipeline(ids.map((id) => ["zrem", this.delayed, id])).exec();
    const mine = ids.filter((_, i) => removed?.[i]?.[1] === 1);
    return mine.length
      ? entriesOf(await this.redis.xclaim(this.stream, GROUP, this.consumer, 0, ...mine))
      : [];
  }

  /** Deliveries unanswered for the visibility timeout, except retries still waiting out a longer delay. */
  private async claimExpired(count: number): Promise<Entry[]> {
    const reply = await this.redis.xautoclaim(
      this.stream,
      GROUP,
      this.consumer,
      this.opts.visibilityTimeoutMs,
      this.cursor,
      "COUNT",
      count,
    );
    const [next, claimed] = reply as [string, unknown];
    this.cursor = next;
    const entries = entriesOf(claimed);
    if (entries.length === 0) return [];
    // The claim reset their idle time, so a parked retry is looked at again only after another timeout.
    const parked = await this.redis.zmscore(this.delayed, ...entries.map(([id]) => id));
    return entries.filter((_, i) => parked[i] === null);
  }

  /**
   * New entries holding up to about `max` messages. Batch entries hold many, so the count of
   * entries to ask for follows the size of those read so far (starting from a guess of 10 per
   * entry). The first read waits up to `readBlockMs` if `block`; once the stream is read out, the
   * reads wait for more until `fillMs` after the first message came, or until there are `max`.
   */
  private async readNew(max: number, block: boolean): Promise<Entry[]> {
    const entries: Entry[] = [];
    let messages = 0;
    let perEntry = 10;
    let fillUntil = Date.now() + this.opts.fillMs;
    let readOut = false; // the last read took every entry there was
    while (messages < max) {
      const count = Math.max(1, Math.floor((max - messages) / perEntry));
      const idle = entries.length === 0 && block;
      const waitMs = idle ? this.opts.readBlockMs : Math.floor(fillUntil - Date.now());
      // BLOCK 0 would wait forever: below 1 ms left, the batch goes as it is.
      if (readOut && waitMs < 1) break;
      const wait = idle || readOut ? ["BLOCK", waitMs] : [];
      const args = ["GROUP", GROUP, this.consumer, "COUNT", count, ...wait, "STREAMS", this.stream, ">"];
      const res = (await this.reader.call("XREADGROUP", ...args)) as Array<[string, unknown]> | null;
      const read = entriesOf(res?.[0]?.[1]);
      if (read.length === 0 && entries.length === 0) break;
      // The fill runs from the first message, not from when the idle read began.
      if (idle) fillUntil = Date.now() + this.opts.fillMs;
      entries.push(...read);
      for (const [, fields] of read) {
        const f = fieldMap(fields);
        messages += bodyCount(f.type, f.body);
      }
      readOut = read.length < count;
      perEntry = Math.max(1, messages / entries.length);
    }
    return entries;
  }

  /**
   * Applies the consumer's answer; ids it did not mention stay pending until the visibility timeout.
   * A batch entry is acked once every message of it is, and retried (after the longest delay asked)
   * if any is: the consumer skips what it already stored, so a message it had acked adds nothing.
   */
  async settle(batch: Message[], answer: Answer): Promise<void> {
    const byId = new Map(batch.map((m) => [m.id, m]));
    const ackedCount = new Map<string, number>();
    for (const id of answer.acked) {
      const entry = entryOf(String(id));
      if (byId.has(entry)) ackedCount.set(entry, (ackedCount.get(entry) ?? 0) + 1);
    }
    const retryAt = new Map<string, number>();
    for (const { id, delaySeconds } of answer.retried) {
      const entry = entryOf(String(id));
      const at = Date.now() + Math.max(0, Number(delaySeconds) || 0) * 1000;
      if (byId.has(entry)) retryAt.set(entry, Math.max(at, retryAt.get(entry) ?? 0));
    }
    const acked = batch
      .filter((m) => !retryAt.has(m.id) && (ackedCount.get(m.id) ?? 0) >= bodyCount(m.type, m.body))
      .map((m) => m.id);
    const tx = this.redis.multi();
    if (acked.length)
      tx.xack(this.stream, GROUP, ...acked)
        .xdel(this.stream, ...acked)
        .hdel(this.attemptsKey, ...acked);
    const dead: Message[] = [];
    for (const [id, at] of retryAt) {
      const m = byId.get(id) as Message;
      if (m.attempts > this.opts.maxRetries) dead.push(m);
      else tx.zadd(this.delayed, at, m.id);
    }
    await this.deadLetter(tx, dead).exec();
  }

  /** A batch that never reached the consumer: this delivery is not counted, and it is due again at `dueAt`. */
  async giveBack(batch: Message[], dueAt: number): Promise<void> {
    const tx = this.redis.multi();
    for (const m of batch) tx.hincrby(this.attemptsKey, m.id, -1).zadd(this.delayed, dueAt, m.id);
    await tx.exec();
  }

  private deadLetter(tx: ChainableCommander, batch: Message[]): ChainableCommander {
    for (const m of batch) {
      tx.xadd(this.dlq, "*", "body", m.body, "type", m.type, "ts", m.ts, "id", m.id, "attempts", m.attempts)
        .xack(this.stream, GROUP, m.id)
        .xdel(this.stream, m.id)
        .hdel(this.attemptsKey, m.id)
        .zrem(this.delayed, m.id);
    }
    return tx;
  }

  /** Moves every dead letter back into the stream under a new id, so its attempts start again. */
  async replayDeadLetters(): Promise<number> {
    let replayed = 0;
    for (;;) {
      const entries = entriesOf(await this.redis.xrange(this.dlq, "-", "+", "COUNT", 500));
      if (entries.length === 0) return replayed;
      const tx = this.redis.multi();
      for (const [id, fields] of entries) {
        const { body = "null", type = "json", ts = String(Date.now()) } = fieldMap(fields);
        tx.xadd(this.stream, "*", "body", body, "type", type, "ts", ts).xdel(this.dlq, id);
      }
      await tx.exec();
      replayed += entries.length;
    }
  }

  async stats(): Promise<QueueBrokerStats> {
    const commands = [
      ["xlen", this.stream],
      ["xpending", this.stream, GROUP],
      ["xlen", this.dlq],
      ["xrange", this.stream, "-", "+", "COUNT", 1],
    ];
    const results = await this.redis.pipeline(commands).exec();
    const [length, summary, deadLetters, first] = (results ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    }) as [number, [number], number, Entry[]];
    const pending = Number(summary[0] ?? 0);
    const oldest = first[0]?.[0]; // acked messages are deleted, so the first entry is the oldest unacked
    const oldestAgeSeconds = oldest ? Math.max(0, Date.now() - Number(oldest.split("-")[0])) / 1000 : 0;
    return { backlog: Math.max(0, length - pending), pending, deadLetters, oldestAgeSeconds };
  }

  /** Forgets this start's consumer name unless it still owns pending (parked) messages, then disconnects. */
  async close(): Promise<void> {
    const info = (await this.redis.xinfo("CONSUMERS", this.stream, GROUP).catch(() => [])) as string[][];
    const ours = info.map(fieldMap).find((c) => c.name === this.consumer);
    if (ours && Number(ours.pending) === 0)
      await this.redis.xgroup("DELCONSUMER", this.stream, GROUP, this.consumer).catch(() => {});
    this.disconnect();
  }

  private connections(): IORedis[] {
    return [this.redis, this.reader, this.producer];
  }

  private disconnect(): void {
    for (const conn of this.connections()) conn.disconnect();
  }
}

function toMessage([id, fields]: Entry, attempts: number): Message {
  const f = fieldMap(fields);
  const type = f.type === "text" || f.type === "bytes" || f.type === "batch" ? f.type : "json";
  return { id, body: f.body ?? "null", type, ts: Number(f.ts) || Date.now(), attempts };
}

/**
 * How the consumer sees a batch entry: one message per body, with the id `<entry id>/<index>`.
 * Other entries are one message under their own id.
 */
export function entryMessages(m: Message): Array<{ id: string; body: string }> {
  if (m.type !== "batch") return [{ id: m.id, body: m.body }];
  return m.body.split("\n").map((body, i) => ({ id: `${m.id}/${i}`, body }));
}

/** The stream entry a message id the consumer answered belongs to. */
const entryOf = (id: string): string => {
  const slash = id.indexOf("/");
  return slash < 0 ? id : id.slice(0, slash);
};

/** Messages in a stream entry: a batch entry's lines, else one. */
function bodyCount(type: string | undefined, body = ""): number {
  if (type !== "batch") return 1;
  let n = 1;
  for (let i = body.indexOf("\n"); i >= 0; i = body.indexOf("\n", i + 1)) n++;
  return n;
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
