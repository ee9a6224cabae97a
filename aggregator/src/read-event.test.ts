import { ClickEventSchema } from "@shared/events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CHROME, clickEvent } from "../../test/fixtures";
import { readClickEvent } from "./read-event";

const MISSING = Symbol("missing");

/** Values for each field of an event, valid and not; MISSING leaves the key out. */
const VARIANTS: Record<string, unknown[]> = {
  id: [
    "9b2f4c7e-1d3a-4e5f-8a6b-7c8d9e0f1a2b",
    "9B2F4C7E-1D3A-4E5F-8A6B-7C8D9E0F1A2B",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "9b2f4c7e-1d3a-9e5f-8a6b-7c8d9e0f1a2b",
    "9b2f4c7e1d3a4e5f8a6b7c8d9e0f1a2b",
    "not-a-uuid",
    "",
    42,
    null,
    MISSING,
  ],
  linkId: [1, 2 ** 53 - 1, 0, -3, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, "1", null, MISSING],
  domain: [MISSING, undefined, "", "acme.link", "d".repeat(300), "d".repeat(301), null, 5],
  slug: ["abc", "s".repeat(64), "", "s".repeat(65), null, 7, MISSING],
  ts: [0, Date.UTC(2026, 0, 1), -0, -1, 1.5, 2 ** 53, "1", null, MISSING],
  country: ["DE", "de", null, "D", "DEU", 1, MISSING],
  referrer: [null, "https://r.example/", "r".repeat(2048), "r".repeat(2049), 5, MISSING],
  userAgent: [null, CHROME, "u".repeat(1024), "u".repeat(1025), false, MISSING],
  visitor: ["0123abcd", "", "v".repeat(128), "v".repeat(129), null, MISSING],
  counted: [MISSING, undefined, true, false, "true", 1, null],
  rule: [MISSING, undefined, null, "r1", "x".repeat(64), "x".repeat(65), 5],
};

function variant(field: string, value: unknown): Record<string, unknown> {
  const event: Record<string, unknown> = { ...clickEvent(), domain: "acme.link", counted: false, rule: "r1" };
  if (value === MISSING) delete event[field];
  else event[field] = value;
  return event;
}

const cases: Array<[string, unknown]> = [
  ...Object.entries(VARIANTS).flatMap(([field, values]) =>
    values.map((v): [string, unknown] => [`${field} = ${String(v).slice(0, 40)}`, variant(field, v)]),
  ),
  ["an unknown extra key", { ...clickEvent(), extra: { nested: [1] } }],
  ["null", null],
  ["a string", "a string"],
  ["a number", 5],
  ["a list holding an event", [clickEvent()]],
  ["an empty object", {}],
];

afterEach(() => vi.restoreAllMocks());

describe("readClickEvent", () => {
  it.each(cases)("agrees with ClickEventSchema: %s", (_, body) => {
    const zod = ClickEventSchema.safeParse(body);
    const read = readClickEvent(body);
    expect(read.event !== undefined).toBe(zod.success);
    if (!zod.success) expect(read.reason).toBe(zod.error.issues[0]?.message);
  });

  it("takes a well-formed event without zod, as the very object it was given", () => {
    const parse = vi.spyOn(ClickEventSchema, "safeParse");
    const events = [
      clickEvent(),
      clickEvent({ country: null, referrer: null, userAgent: null, counted: true, rule: null }),
      { ...clickEvent(), domain: "", rule: "r1" },
    ];
    for (const e of events) expect(readClickEvent(e).event).toBe(e);
    expect(parse).not.toHaveBeenCalled();
  });

  it("refuses, with a reason, events zod accepts but Postgres cannot store", () => {
    const unstorable = [
      clickEvent({ slug: "a\0b" }),
      clickEvent({ visitor: "\ud800abc" }),
      clickEvent({ rule: "r\udc00" }),
      clickEvent({ userAgent: `${CHROME}\ud83d` }),
      clickEvent({ domain: "\0" }),
      clickEvent({ ts: 8.64e15 + 1 }),
      clickEvent({ ts: Date.UTC(10000, 0, 1) }),
    ];
    for (const e of unstorable) {
      expect(ClickEventSchema.safeParse(e).success).toBe(true);
      expect(readClickEvent(e).reason).toMatch(/NUL|surrogate|year 9999/);
    }
  });

  it("keeps text with paired surrogates (emoji) and the latest storable time", () => {
    for (const e of [
      clickEvent({ slug: "go-😀", referrer: "https://😀.example/" }),
      clickEvent({ ts: Date.UTC(10000, 0, 1) - 1 }),
    ])
      expect(readClickEvent(e).event).toBe(e);
  });
});
