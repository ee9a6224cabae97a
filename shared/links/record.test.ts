import { describe, expect, it } from "vitest";
import {
  fromRecord,
  isLinkRecord,
  isTombstone,
  type LinkRecordSource,
  RECORD_COLUMNS,
  toLinkRecord,
  tombstone,
} from "./record";
import { toRuleRecord, utmQuery } from "./rules";

/** Every column set, none to its default, so a field either side drops shows as a difference. */
const everyField: LinkRecordSource = {
  id: 41,
  url: "https://example.com/a",
  statusCode: 301,
  expiresAt: new Date("2027-01-01T00:00:00Z"),
  maxClicks: 5,
  rules: [
    {
      id: "de",
      when: { country: ["DE"], language: ["DE-at"], after: "2026-01-01T00:00:00Z" },
      url: "https://example.com/de",
    },
    {
      id: "ref",
      when: { query: [{ name: "ref", value: "x" }, { name: "y" }] },
      url: "https://example.com/r",
      statusCode: 307,
    },
  ],
  passwordHash: "pbkdf2-sha256$100000$c2FsdA$aGFzaA",
  preview: { title: "T", description: "D", image: "https://example.com/i.png" },
  forwardQuery: false,
  utm: { source: "news letter", campaign: "a&b" },
};
const defaults: LinkRecordSource = {
  id: 42,
  url: "https://example.com/b",
  statusCode: 302,
  expiresAt: null,
  maxClicks: null,
  rules: [],
  passwordHash: null,
  preview: null,
  forwardQuery: null,
  utm: null,
};
const columns = Object.keys(RECORD_COLUMNS) as Array<keyof LinkRecordSource>;

/**
 * A column's value as the record gives it back: times as epoch milliseconds, rules in their
 * edge shape, UTM fields as the query string they add.
 */
function asRead(row: LinkRecordSource, column: keyof LinkRecordSource) {
  if (column === "rules") return row.rules.map(toRuleRecord);
  if (column === "utm") return utmQuery(row.utm);
  const value = row[column];
  return value instanceof Date ? value.getTime() : value;
}

describe("a link's edge record", () => {
  it("is tested with a row that sets every record column", () => {
    expect(Object.keys(everyField).sort()).toEqual([...columns].sort());
    expect(Object.keys(defaults).sort()).toEqual([...columns].sort());
    expect(Object.values(everyField)).not.toContain(null);
  });

  it.each([
    ["every field set", everyField],
    ["the defaults", defaults],
  ])("gives back every column of a row with %s, also after a trip through KV's JSON", (_, row) => {
    const record = toLinkRecord(row);
    const stored: unknown = JSON.parse(JSON.stringify(record));
    expect(isLinkRecord(stored)).toBe(true);
    for (const read of [record, stored as typeof record]) {
      for (const column of columns) expect(fromRecord[column](read), column).toEqual(asRead(row, column));
      expect(isTombstone(read)).toBe(false);
    }
  });

  it("keeps a published row's other columns out of the record", () => {
    const fullRow = { ...everyField, slug: "a", ownerId: "o", tags: ["x"], deletedAt: null };
    expect(toLinkRecord(fullRow)).toEqual(toLinkRecord(everyField));
  });

  it("keeps rule times as epoch milliseconds, languages lower-case, and encodes UTM values", () => {
    const record = toLinkRecord(everyField);
    expect(fromRecord.rules(record)[0]).toEqual({
      id: "de",
      url: "https://example.com/de",
      country: ["DE"],
      language: ["de-at"],
      after: Date.UTC(2026, 0, 1),
    });
    expect(fromRecord.rules(record)[1]).toMatchObject({
      status: 307,
      query: [
        ["ref", "x"],
        ["y", null],
      ],
    });
    expect(fromRecord.utm(record)).toBe("utm_source=news%20letter&utm_campaign=a%26b");
  });

  it("marks a deleted link's tombstone, keeping its id", () => {
    const record = tombstone(43);
    expect(isTombstone(record)).toBe(true);
    expect(fromRecord.id(record)).toBe(43);
    expect(isLinkRecord(JSON.parse(JSON.stringify(record)))).toBe(true);
  });
});
