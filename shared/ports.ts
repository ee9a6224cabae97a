import type { ClickEvent } from "./events";
import type { LinkRecord } from "./links/record";

/**
 * The small interfaces the core depends on. Cloudflare bindings and the self-hosted
 * runtime each provide an implementation; code above them never knows which it has.
 */

/**
 * Edge copy of link records (Workers KV, or a KV binding served by the self-host store),
 * by KV key: `linkKey(domain, slug)` (shared/keys.ts), built once per request.
 */
export interface LinkStore {
  get(key: string): Promise<LinkRecord | null>;
  put(key: string, record: LinkRecord): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Approximate per-link counters (Redis), by link id. */
export interface ClickCounter {
  /** Increments and returns the new value. */
  increment(linkId: number): Promise<number>;
  /** Reads the current value (0 when absent). */
  current(linkId: number): Promise<number>;
}

/**
 * Where click events go: sent as I/O, which the redirect leaves to waitUntil (a Cloudflare Queue, or the
 * self-host broker behind the same binding), or written at once, before the answer (self-host's stdout line).
 */
export type ClickSink = QueueingClickSink | WritingClickSink;
export type QueueingClickSink = { send(event: ClickEvent): Promise<void> };
export type WritingClickSink = { write(event: ClickEvent): void };

/** Work that may finish after the answer (`ctx.waitUntil`): background refreshes, click sends. */
export type Background = { waitUntil(promise: Promise<unknown>): void };
