import { type LinkRecordSource, toLinkRecord, tombstone } from "@shared/links/record";
import { describe, expect, it } from "vitest";
import { decideRedirect } from "./decide";
import type { RequestFacts } from "./request-facts";

const NOW = Date.UTC(2026, 11, 1, 12);

/** Request facts whose lazy parts throw: a decision that reads one it does not need fails. */
function request(method: "GET" | "HEAD"): RequestFacts {
  const unread = (name: string) => () => {
    throw new Error(`the decision read ${name}, which no rule of this link needs`);
  };
  return Object.defineProperties({ method } as RequestFacts, {
    country: { get: unread("country") },
    device: { get: unread("device") },
    languages: { get: unread("languages") },
    query: { get: unread("query") },
  });
}

/** A live link's record, made the way the link service makes it. */
const link = (columns: Partial<LinkRecordSource> = {}) =>
  toLinkRecord({
    id: 7,
    url: "https://example.com/t",
    statusCode: 302,
    expiresAt: null,
    maxClicks: null,
    ...columns,
  });
const at = (ms: number) => new Date(ms);

describe("decideRedirect", () => {
  it("redirects a plain link with 302, reading no request fact but the method", () => {
    expect(decideRedirect(link(), request("GET"), NOW)).toEqual({
      kind: "redirect",
      linkId: 7,
      location: "https://example.com/t",
      status: 302,
      click: true,
      counted: false,
    });
  });

  it("normalizes a target stored before the target URL rules", () => {
    expect(decideRedirect(link({ url: "HTTPS://Example.com" }), request("GET"), NOW)).toMatchObject({
      location: "https://example.com/",
    });
  });

  it("uses the link's own status code", () => {
    for (const s of [301, 307, 308] as const) {
      expect(decideRedirect(link({ statusCode: s }), request("GET"), NOW)).toMatchObject({
        kind: "redirect",
        status: s,
      });
    }
  });

  it("answers HEAD like GET but not as a click", () => {
    expect(decideRedirect(link({ statusCode: 307 }), request("HEAD"), NOW)).toMatchObject({
      kind: "redirect",
      status: 307,
      click: false,
      counted: false,
    });
  });

  it("finds nothing without a record, and nothing for a tombstone", () => {
    expect(decideRedirect(null, request("GET"), NOW)).toEqual({ kind: "not-found" });
    expect(decideRedirect(tombstone(7), request("GET"), NOW)).toEqual({ kind: "not-found" });
    // A tombstone wins over whatever else the record says.
    expect(
      decideRedirect(
        { ...link({ expiresAt: at(NOW - 1), maxClicks: 1 }), ...tombstone(7) },
        request("HEAD"),
        NOW,
      ),
    ).toEqual({
      kind: "not-found",
    });
  });

  it("is gone from the expiry instant on, and redirects the millisecond before", () => {
    expect(decideRedirect(link({ expiresAt: at(NOW + 1) }), request("GET"), NOW)).toMatchObject({
      kind: "redirect",
    });
    expect(decideRedirect(link({ expiresAt: at(NOW) }), request("GET"), NOW)).toEqual({
      kind: "gone",
      reason: "expired",
    });
    expect(decideRedirect(link({ expiresAt: at(NOW - 1) }), request("HEAD"), NOW)).toEqual({
      kind: "gone",
      reason: "expired",
    });
  });

  it("asks for a count before deciding a click-limited link: an increment for GET, a read for HEAD", () => {
    expect(decideRedirect(link({ maxClicks: 3 }), request("GET"), NOW)).toEqual({
      kind: "count",
      linkId: 7,
      increment: true,
    });
    expect(decideRedirect(link({ maxClicks: 3 }), request("HEAD"), NOW)).toEqual({
      kind: "count",
      linkId: 7,
      increment: false,
    });
  });

  it("does not count an expired link", () => {
    expect(decideRedirect(link({ expiresAt: at(NOW), maxClicks: 3 }), request("GET"), NOW)).toEqual({
      kind: "gone",
      reason: "expired",
    });
  });

  it("lets the click that reaches the limit through and refuses the next (GET)", () => {
    expect(decideRedirect(link({ maxClicks: 3 }), request("GET"), NOW, { clicks: 3 })).toMatchObject({
      kind: "redirect",
      click: true,
      counted: true,
    });
    expect(decideRedirect(link({ maxClicks: 3 }), request("GET"), NOW, { clicks: 4 })).toEqual({
      kind: "gone",
      reason: "click-limit",
    });
  });

  it("refuses HEAD once the clicks so far reach the limit", () => {
    expect(decideRedirect(link({ maxClicks: 3 }), request("HEAD"), NOW, { clicks: 2 })).toMatchObject({
      kind: "redirect",
      click: false,
      counted: false,
    });
    expect(decideRedirect(link({ maxClicks: 3 }), request("HEAD"), NOW, { clicks: 3 })).toEqual({
      kind: "gone",
      reason: "click-limit",
    });
  });

  it("fails open when the counter could not answer, and the click is not marked counted", () => {
    expect(decideRedirect(link({ maxClicks: 1 }), request("GET"), NOW, { clicks: null })).toMatchObject({
      kind: "redirect",
      click: true,
      counted: false,
    });
    expect(decideRedirect(link({ maxClicks: 1 }), request("HEAD"), NOW, { clicks: null })).toMatchObject({
      kind: "redirect",
      click: false,
    });
  });

  it("ignores a count for a link without a limit", () => {
    expect(decideRedirect(link(), request("GET"), NOW, { clicks: 1_000_000 })).toMatchObject({
      kind: "redirect",
      counted: false,
    });
  });
});
