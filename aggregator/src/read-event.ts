import { CLICK_EVENT_MAX, type ClickEvent, ClickEventSchema } from "@shared/events";
import { z } from "zod";

export type EventReading = { event: ClickEvent; reason?: undefined } | { event?: undefined; reason: string };

/** zod's own pattern, the one `z.uuid()` checks. */
const UUID = z.regexes.uuid();
/**
 * The last millisecond of the year 9999: past it toISOString writes a six-digit year with a sign
 * (`+010000-01-01T…`), which Postgres refuses, failing the whole batch (writer.ts).
 */
const MAX_TS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** NUL and surrogates are rare in real text: only a string that has one gets the exact check below. */
const SUSPECT = /[\0\uD800-\uDFFF]/;
/** Postgres text holds no NUL, and JSON's \u escapes of an unpaired surrogate half fail its parse. */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const text = (v: unknown, max: number): v is string => typeof v === "string" && v.length <= max;
const storable = (v: unknown): boolean => typeof v !== "string" || !SUSPECT.test(v) || !UNSTORABLE.test(v);

/**
 * ClickEventSchema's exact shape, checked by hand: zod's safeParse of each event (it builds a new
 * object per event and runs a check per field) was 7% of the aggregator's CPU, for events that
 * are almost always well-formed. Never looser than the schema (a unit test holds them side by
 * side); anything it refuses goes through zod, which decides and words the reason.
 */
function hasEventShape(b: unknown): b is ClickEvent {
  if (typeof b !== "object" || b === null || Array.isArray(b)) return false;
  const e = b as Record<string, unknown>;
  return (
    typeof e.id === "string" &&
    UUID.test(e.id) &&
    typeof e.linkId === "number" &&
    Number.isSafeInteger(e.linkId) &&
    e.linkId > 0 &&
    (e.domain === undefined || text(e.domain, CLICK_EVENT_MAX.domain)) &&
    text(e.slug, CLICK_EVENT_MAX.slug) &&
    e.slug.length > 0 &&
    typeof e.ts === "number" &&
    Number.isSafeInteger(e.ts) &&
    e.ts >= 0 &&
    (e.country === null || (typeof e.country === "string" && e.country.length === 2)) &&
    (e.referrer === null || text(e.referrer, CLICK_EVENT_MAX.referrer)) &&
    (e.userAgent === null || text(e.userAgent, CLICK_EVENT_MAX.userAgent)) &&
    text(e.visitor, CLICK_EVENT_MAX.visitor) &&
    (e.counted === undefined || typeof e.counted === "boolean") &&
    (e.rule === undefined || e.rule === null || text(e.rule, CLICK_EVENT_MAX.rule))
  );
}

/** Why a valid event still cannot be stored; undefined when it can. */
function unstorable(e: ClickEvent): string | undefined {
  if (e.ts > MAX_TS) return "ts is past the year 9999";
  const ok =
    storable(e.slug) &&
    storable(e.domain) &&
    storable(e.country) &&
    storable(e.referrer) &&
    storable(e.userAgent) &&
    storable(e.visitor) &&
    storable(e.rule);
  return ok ? undefined : "a text field holds a NUL or an unpaired surrogate";
}

/**
 * A message body as a click event, or why it is not one: it must fit ClickEventSchema and be
 * storable (see `unstorable`), else it is malformed and acknowledged, never retried — one bad
 * event must not hold back a batch.
 *
 * @example const { event, reason } = readClickEvent(message.body);
 */
export function readClickEvent(body: unknown): EventReading {
  let event: ClickEvent;
  if (hasEventShape(body)) event = body;
  else {
    const parsed = ClickEventSchema.safeParse(body);
    if (!parsed.success) return { reason: parsed.error.issues[0]?.message ?? "invalid" };
    event = parsed.data;
  }
  const reason = unstorable(event);
  return reason ? { reason } : { event };
}
