import type { ClickEvent } from "../events";
import { referrerHost } from "./referrer-host";

/** What the analytics keep of a user agent: classes, never the string itself. */
export type AgentClass = { isBot: boolean; device: string; browser: string; os: string };

type Derive<Value> = (event: ClickEvent, agent: AgentClass) => Value;

/**
 * One way the stats break human clicks down: a text column of click_events and part of
 * the click_rollups key, and a top-10 list under `breakdown` in the stats API. A
 * `nullable` one is null in click_events when an event lacks it and '' in the rollup key
 * (a key column cannot be null).
 */
export type ClickDimension =
  | { column: string; breakdown: string; nullable: true; derive: Derive<string | null> }
  | { column: string; breakdown: string; nullable?: false; derive: Derive<string> };

/**
 * The click dimensions, in column order: the only list of them. The click row, the
 * drizzle columns and rollup key, the writer's SQL, the stats queries and the stats
 * response schema are all made from it (./dimensions.ts), so adding a dimension is one
 * entry here plus a migration (docs/decisions.md). Bot or human is not a dimension: it
 * splits every count in two instead.
 */
export const CLICK_DIMENSIONS = {
  country: {
    column: "country",
    breakdown: "countries",
    nullable: true,
    derive: (event) => event.country?.toUpperCase() ?? null,
  },
  referrerHost: {
    column: "referrer_host",
    breakdown: "referrers",
    nullable: true,
    derive: (event) => referrerHost(event.referrer),
  },
  device: { column: "device", breakdown: "devices", derive: (_, agent) => agent.device },
  browser: { column: "browser", breakdown: "browsers", derive: (_, agent) => agent.browser },
  os: { column: "os", breakdown: "os", derive: (_, agent) => agent.os },
  /** The redirect rule that chose the target (its id); '' in the rollups for the link's own target. */
  rule: { column: "rule", breakdown: "rules", nullable: true, derive: (event) => event.rule ?? null },
  // The short domain the click came through ("" for the default); the service stats filter by it.
  domain: { column: "domain", breakdown: "domains", derive: (event) => event.domain ?? "" },
} as const satisfies Record<string, ClickDimension>;
