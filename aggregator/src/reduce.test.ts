import { describe, expect, it } from "vitest";
import { CHROME, clickEvent, GOOGLEBOT, IPHONE } from "../../test/fixtures";
import { classifyAgent } from "./enrich";
import { reduceBatch } from "./reduce";

describe("classifyAgent", () => {
  it("classifies desktop, mobile and crawler user agents", () => {
    expect(classifyAgent(CHROME)).toEqual({
      isBot: false,
      device: "desktop",
      browser: "Chrome",
      os: "Windows",
    });
    expect(classifyAgent(IPHONE)).toMatchObject({ isBot: false, device: "mobile", os: "iOS" });
    expect(classifyAgent(GOOGLEBOT)).toMatchObject({ isBot: true, device: "bot" });
    expect(classifyAgent(null).isBot).toBe(true);
  });
});

describe("reduceBatch", () => {
  it("turns valid events into enriched rows", () => {
    const event = clickEvent({ userAgent: GOOGLEBOT, country: "fr" });
    const { rows, malformed } = reduceBatch([{ id: "m1", body: event }]);
    expect(malformed).toEqual([]);
    expect(rows).toEqual([
      expect.objectContaining({
        id: event.id,
        linkId: 1,
        ts: new Date(event.ts),
        country: "FR",
        referrerHost: "news.example.org",
        isBot: true,
        device: "bot",
      }),
    ]);
  });

  it("sets aside malformed messages with a reason and keeps the rest", () => {
    const good = clickEvent();
    const { rows, malformed } = reduceBatch([
      { id: "a", body: good },
      { id: "b", body: { ...clickEvent(), id: "not-a-uuid" } },
      { id: "c", body: "a string" },
      { id: "d", body: { ...clickEvent(), linkId: -3 } },
    ]);
    expect(rows.map((r) => r.id)).toEqual([good.id]);
    expect(malformed.map((m) => m.id)).toEqual(["b", "c", "d"]);
    expect(malformed.every((m) => m.reason.length > 0)).toBe(true);
  });

  it("keeps one row per event id within a batch", () => {
    const event = clickEvent();
    const { rows, duplicatesInBatch } = reduceBatch([
      { id: 1, body: event },
      { id: 2, body: event },
    ]);
    expect(rows).toHaveLength(1);
    expect(duplicatesInBatch).toBe(1);
  });

  it("takes an id in upper and in lower case for one event, as Postgres's uuid does", () => {
    const event = clickEvent();
    const { rows, duplicatesInBatch } = reduceBatch([
      { id: 1, body: { ...event, id: event.id.toUpperCase() } },
      { id: 2, body: event },
    ]);
    expect(rows.map((r) => r.id)).toEqual([event.id]);
    expect(duplicatesInBatch).toBe(1);
  });
});
