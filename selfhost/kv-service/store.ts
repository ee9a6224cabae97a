/**
 * The KV service's values (selfhost/kv-service.ts): held in memory and written through to Redis
 * (key `kv:<name>`, a hash of value `v` and metadata `m`, expiring with the entry). Reads never touch
 * Redis, so they keep working while Redis is down; a write Redis cannot take is remembered and
 * flushed, after loading what Redis has, each time Redis is ready again.
 *
 * @example
 *   const store = await KvStore.open("redis://127.0.0.1:6379");
 *   await store.put("link:abc", { value: Buffer.from("…"), metadata: null, expiresAt: null });
 *   store.get("link:abc")?.value;
 */
import IORedis from "ioredis";
import { ChangeLog } from "./change-log";

const PREFIX = "kv:";
/** How long start-up waits for Redis before serving what it has (nothing) and loading once Redis is up. */
const FIRST_LOAD_WAIT_MS = 5000;

export type KvEntry = { value: Buffer; metadata: string | null; expiresAt: number | null };

export class KvStore {
  private readonly entries = new Map<string, KvEntry>();
  /** Keys whose latest state (value or deletion) Redis does not have yet. */
  private readonly dirty = new Set<string>();
  /** Per load under way, the keys written or deleted here since it began: what it read of them is older. */
  private readonly loads = new Set<Set<string>>();
  /** Every key written, numbered: the edge isolates' key indexes follow it (`GET /?changes_since=`). */
  readonly changes = new ChangeLog();

  /** Connects and loads what Redis has (waiting up to 5 s for it); a Redis that is down is loaded later. */
  static async open(redisUrl: string): Promise<KvStore> {
    // No offline queue and no retries: a write while Redis is down fails at once and is kept as dirty.
    const redis = new IORedis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    redis.on("error", () => {});
    const store = new KvStore(redis);
    // Every (re)connect loads and flushes; the start waits for the first of those instead of loading again.
    let reloaded: Promise<void> | undefined;
    redis.on("ready", () => {
      reloaded = store
        .load()
        .then(() => store.flush())
        .catch(() => {});
    });
    await new Promise<void>((resolve) => {
      if (redis.status === "ready") resolve();
      redis.once("ready", () => resolve());
      setTimeout(resolve, FIRST_LOAD_WAIT_MS);
    });
    await (reloaded ?? store.load().catch(() => {}));
    return store;
  }

  private constructor(private readonly redis: IORedis) {}

  /** The entry unless it is missing or expired (an expired one is dropped). */
  get(key: string): KvEntry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Live keys starting with `prefix`, unsorted. */
  keys(prefix: string): string[] {
    return [...this.entries.keys()].filter((k) => k.startsWith(prefix) && this.get(k));
  }

  async put(key: string, entry: KvEntry): Promise<void> {
    this.entries.set(key, entry);
    for (const touched of this.loads) touched.add(key);
    this.changes.record(key, true);
    await this.write(key);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
    for (const touched of this.loads) touched.add(key);
    this.changes.record(key, false);
    await this.write(key);
  }

  /** Keys written while Redis was unreachable, not yet persisted. */
  unflushed(): number {
    return this.dirty.size;
  }

  close(): void {
    this.redis.disconnect();
  }

  private async write(key: string): Promise<void> {
    try {
      await this.persist(key);
      this.dirty.delete(key);
    } catch {
      // Redis is away: keep serving from memory and persist when it is back.
      this.dirty.add(key);
    }
  }

  private async persist(key: string): Promise<void> {
    const entry = this.entries.get(key);
    const multi = this.redis.multi().del(PREFIX + key);
    if (entry) {
      multi.hset(PREFIX + key, "v", entry.value);
      if (entry.metadata) multi.hset(PREFIX + key, "m", entry.metadata);
      if (entry.expiresAt) multi.pexpireat(PREFIX + key, entry.expiresAt);
    }
    await multi.exec();
  }

  private async flush(): Promise<void> {
    for (const key of [...this.dirty]) {
      await this.persist(key);
      this.dirty.delete(key);
    }
  }

  /**
   * Loads what Redis has, without overwriting writes made here since. The values of each SCAN batch are read in
   * one pipeline: a read and a TTL per key, awaited one by one, took minutes for a million links.
   */
  private async load(): Promise<void> {
    // A key deleted here while its value was read is in neither `entries` nor `dirty` (the delete reached Redis
    // after the read): without this, the value read would bring it back.
    const touched = new Set<string>();
    this.loads.add(touched);
    try {
      await this.loadFrom(touched);
    } finally {
      this.loads.delete(touched);
    }
  }

  private async loadFrom(touched: Set<string>): Promise<void> {
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 1000);
      cursor = next;
      const wanted = keys.filter((full) => !this.has(full.slice(PREFIX.length)));
      const reads = this.redis.pipeline();
      for (const full of wanted) reads.hmgetBuffer(full, "v", "m").pttl(full);
      const answers = (await reads.exec()) ?? [];
      for (const [i, full] of wanted.entries()) {
        const key = full.slice(PREFIX.length);
        const [[readFailed, fields], [ttlFailed, ttl]] = [answers[2 * i] ?? [], answers[2 * i + 1] ?? []];
        if (readFailed || ttlFailed) throw readFailed ?? ttlFailed;
        const [value, metadata] = (fields ?? []) as Array<Buffer | null>;
        // Written or deleted here while the batch was read: what is here is newer.
        if (!value || this.has(key) || touched.has(key)) continue;
        this.entries.set(key, {
          value,
          metadata: metadata?.toString() ?? null,
          expiresAt: (ttl as number) > 0 ? Date.now() + (ttl as number) : null,
        });
        // Loaded after the service started (Redis was down then): new to the indexes too.
        this.changes.record(key, true);
      }
    } while (cursor !== "0");
  }

  private has(key: string): boolean {
    return this.dirty.has(key) || this.entries.has(key);
  }
}
