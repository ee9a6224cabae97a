import { type DimensionValues, deriveDimensions } from "@shared/analytics/dimensions";
import type { ClickEvent } from "@shared/events";
import { classifyAgent } from "./enrich";
import { readClickEvent } from "./read-event";

/** One row of click_events, ready to insert: its dimensions come from CLICK_DIMENSIONS. */
export type ClickRow = DimensionValues & {
  id: string;
  linkId: number;
  slug: string;
  ts: Date;
  isBot: boolean;
  visitorHash: string;
  /** The edge already counted it in Redis; not stored. */
  counted: boolean;
};

export type Reduction<Id> = {
  rows: ClickRow[];
  /** Messages that failed the schema: acknowledged, logged and counted, never retried. */
  malformed: Array<{ id: Id; reason: string }>;
  /** Events whose id appeared earlier in the same batch. */
  duplicatesInBatch: number;
};

/**
 * The pure core of the aggregator: validates each message body against the shared schema,
 * enriches valid events (bot or human, and every click dimension) and drops repeated
 * ids within the batch. No I/O; the writer takes the rows.
 */
export function reduceBatch<Id>(messages: ReadonlyArray<{ id: Id; body: unknown }>): Reduction<Id> {
  const rows: ClickRow[] = [];
  const malformed: Reduction<Id>["malformed"] = [];
  const seen = new Set<string>();
  let duplicatesInBatch = 0;
  for (const message of messages) {
    const { event, reason } = readClickEvent(message.body);
    if (!event) {
      malformed.push({ id: message.id, reason });
      continue;
    }
    // Postgres reads a uuid in either case: two spellings of one id are one click (else its counter rises twice).
    const id = event.id.toLowerCase();
    if (seen.has(id)) {
      duplicatesInBatch++;
      continue;
    }
    seen.add(id);
    rows.push(toRow(event, id));
  }
  return { rows, malformed, duplicatesInBatch };
}

/** The row of `event`, under `id` (its id in lower case). */
function toRow(event: ClickEvent, id: string): ClickRow {
  const agent = classifyAgent(event.userAgent);
  return {
    id,
    linkId: event.linkId,
    slug: event.slug,
    ts: new Date(event.ts),
    ...deriveDimensions(event, agent),
    isBot: agent.isBot,
    visitorHash: event.visitor,
    counted: event.counted ?? false,
  };
}
