import { getTableConfig } from "drizzle-orm/pg-core";
import { drizzle } from "drizzle-orm/pg-proxy";
import { afterEach, describe, expect, it, vi } from "vitest";
import { arrayLiteral } from "../../aggregator/src/array-literal";
import { CHROME, clickEvent } from "../../test/fixtures";
import type { Database } from "../db/client";
import type { ClickEvent } from "../events";

/**
 * Everything a click dimension must reach, loaded fresh so that a list changed with
 * vi.doMock takes effect in every module made from it.
 */
async function load() {
  vi.resetModules();
  return {
    ...(await import("./dimensions")),
    ...(await import("../../aggregator/src/enrich")),
    ...(await import("../../aggregator/src/reduce")),
    ...(await import("../../aggregator/src/writer")),
    ...(await import("../db/schema")),
    ...(await import("../../worker/src/schemas/stats")),
    ...(await import("../../worker/src/services/stats")),
  };
}

/** Two dimensions that could come next (a visitor's language, a campaign), one entry each. */
const NEXT_DIMENSIONS = {
  language: {
    column: "language",
    breakdown: "languages",
    derive: (e: ClickEvent) => `${e.slug}-lang`,
  },
  campaign: { column: "campaign", breakdown: "campaigns", nullable: true, derive: () => null },
};

const addNextDimensions = () =>
  vi.doMock("./click-dimensions", async (importOriginal) => {
    const real = await importOriginal<typeof import("./click-dimensions")>();
    return { ...real, CLICK_DIMENSIONS: { ...real.CLICK_DIMENSIONS, ...NEXT_DIMENSIONS } };
  });

const lists: Array<[string, () => void, string[]]> = [
  ["the list as it is", () => {}, []],
  ["the next two dimensions added to the list", addNextDimensions, Object.keys(NEXT_DIMENSIONS)],
];

afterEach(() => {
  vi.doUnmock("./click-dimensions");
});

describe.each(lists)("with %s", (_, arrange, added) => {
  it("every entry of the list is a dimension, in list order", async () => {
    arrange();
    const { DIMENSIONS } = await load();
    const { CLICK_DIMENSIONS } = await import("./click-dimensions");
    const fields = DIMENSIONS.map((d) => d.field);
    expect(fields).toEqual(Object.keys(CLICK_DIMENSIONS));
    expect(fields).toEqual(expect.arrayContaining(added));
    expect(fields.length).toBeGreaterThan(added.length);
  });

  it("a click row has every dimension, each derived by its entry", async () => {
    arrange();
    const { DIMENSIONS, classifyAgent, reduceBatch } = await load();
    const event = clickEvent({ userAgent: CHROME, country: "fr" });
    const [row] = reduceBatch([{ id: 1, body: event }]).rows;
    expect(row).toBeDefined();
    const agent = classifyAgent(event.userAgent);
    for (const d of DIMENSIONS) expect(row?.[d.field], d.field).toBe(d.derive(event, agent));
  });

  it("the writer stores, returns and rolls up every dimension column", async () => {
    arrange();
    const { DIMENSIONS, reduceBatch, writeClicks } = await load();
    const rows = reduceBatch([
      { id: 1, body: clickEvent() },
      { id: 2, body: clickEvent({ referrer: null }) },
    ]).rows;
    const calls: Array<{ text: string; values: unknown[] }> = [];
    const db = {
      query: async (query: { text: string; values?: unknown[] }) => {
        calls.push({ text: query.text, values: query.values ?? [] });
        return { rows: [] };
      },
    };
    await writeClicks(db, rows);
    await writeClicks(db, rows.slice(0, 1));
    const [{ text, values } = { text: "", values: [] }, second] = calls;
    expect(second?.text, "the same statement for every batch size").toBe(text);

    const list = (pattern: RegExp) => (pattern.exec(text)?.[1] ?? "").split(/,\s*/);
    const inserted = list(/insert into click_events\s*\(([^)]*)\)/);
    // The batch's columns: every stored one, and `counted`.
    const batch = list(/as batch\(([^)]*)\)/);
    expect(batch).toEqual([...inserted, "counted"]);
    expect(list(/unnest\(([^)]*)\)/)).toHaveLength(batch.length);
    expect(values).toHaveLength(batch.length);
    const returned = list(/returning ([^\n]*)/);
    const rolledUp = list(/insert into click_rollups \(([^)]*)\)/);
    const rollupKeys = /is_bot, (.*), count\(\*\)/.exec(text)?.[1];
    for (const d of DIMENSIONS) {
      expect(values[batch.indexOf(d.column)], d.column).toBe(arrayLiteral(rows.map((r) => r[d.field])));
      expect(returned, d.column).toContain(d.column);
      expect(rolledUp, d.column).toContain(d.column);
    }
    const keys = DIMENSIONS.map((d) => (d.nullable ? `coalesce(${d.column}, '')` : d.column));
    expect(rollupKeys).toBe(keys.join(", "));
    expect(list(/group by ([\d, ]+)/)).toHaveLength(3 + DIMENSIONS.length);
  });

  it("the tables have a column per dimension and the rollup key covers them all", async () => {
    arrange();
    const { DIMENSIONS, clickEvents, clickRollups } = await load();
    const events = getTableConfig(clickEvents);
    const rollups = getTableConfig(clickRollups);
    for (const d of DIMENSIONS) {
      expect(events.columns.find((c) => c.name === d.column)?.notNull, d.column).toBe(!d.nullable);
      expect(rollups.columns.find((c) => c.name === d.column)?.notNull, d.column).toBe(true);
    }
    expect(rollups.primaryKeys[0]?.columns.map((c) => c.name)).toEqual([
      "link_id",
      "hour",
      "is_bot",
      ...DIMENSIONS.map((d) => d.column),
    ]);
  });

  it("the stats answer and its schema have a breakdown per dimension, read from its column", async () => {
    arrange();
    const { DIMENSIONS, LinkStatsSchema, StatsService } = await load();
    // Answers every breakdown query with the column it grouped by, as its top value.
    const db = drizzle(async (query) => {
      const grouped = /group by "click_rollups"\."(\w+)"/.exec(query)?.[1];
      return { rows: grouped ? [[grouped, "2"]] : [] };
    });
    const range = {
      from: new Date("2026-01-01T00:00Z"),
      to: new Date("2026-01-02T00:00Z"),
      interval: "day" as const,
    };
    const stats: Record<string, unknown> = await new StatsService(db as unknown as Database).forLink(
      1,
      "abc",
      range,
    );
    for (const d of DIMENSIONS) {
      expect(LinkStatsSchema.shape, d.breakdown).toHaveProperty(d.breakdown);
      expect(stats[d.breakdown], d.breakdown).toEqual([{ value: d.column, clicks: 2 }]);
    }
    expect(Object.keys(stats).sort()).toEqual(Object.keys(LinkStatsSchema.shape).sort());
  });
});
