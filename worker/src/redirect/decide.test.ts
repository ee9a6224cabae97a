import { type LinkRecordSource, PLAIN_LINK, toLinkRecord, tombstone } from "@shared/links/record";
import type { LinkRule } from "@shared/links/rules";
import { describe, expect, it } from "vitest";
import { decideRedirect, type RedirectDecision } from "./decide";
import type { RequestFacts } from "./request-facts";

const NOW = Date.UTC(2026, 11, 1, 12);
const CTX = { now: NOW, forwardQueryByDefault: false };

type Facts = Omit<RequestFacts, "method" | "query"> & { query: string };

/**
 * Request facts whose lazy parts throw unless given: a decision that reads one it does not
 * need fails. `query` is given as the query string; `search` follows from it.
 */
function request(method: "GET" | "HEAD" | "POST", given: Partial<Facts> = {}): RequestFacts {
  const fact = (name: keyof Facts) => ({
    get() {
      const value = name === "search" ? given.query : given[name];
      if (value === undefined) throw new Error(`the decision read ${name}, which no rule of this link needs`);
      return name === "query" ? new URLSearchParams(value as string) : value;
    },
  });
  return Object.defineProperties({ method } as RequestFacts, {
    country: fact("country"),
    device: fact("device"),
    languages: fact("languages"),
    query: fact("query"),
    search: fact("search"),
    previewCrawler: fact("previewCrawler"),
    userAgent: fact("userAgent"),
  });
}

/** A live link's record, made the way the link service makes it. */
const link = (columns: Partial<LinkRecordSource> = {}) =>
  toLinkRecord({ ...PLAIN_LINK, id: 7, url: "https://example.com/t", ...columns });
const at = (ms: number) => new Date(ms);

describe("decideRedirect", () => {
  it("redirects a plain link with 302, reading no request fact but the method", () => {
    expect(decideRedirect(link(), request("GET"), CTX)).toEqual({
      kind: "redirect",
      linkId: 7,
      location: "https://example.com/t",
      status: 302,
      click: true,
      counted: false,
      rule: null,
    });
  });

  it("normalizes a target stored before the target URL rules", () => {
    expect(decideRedirect(link({ url: "HTTPS://Example.com" }), request("GET"), CTX)).toMatchObject({
      location: "https://example.com/",
    });
  });

  it("uses the link's own status code", () => {
    for (const s of [301, 307, 308] as const) {
      expect(decideRedirect(link({ statusCode: s }), request("GET"), CTX)).toMatchObject({
        kind: "redirect",
        status: s,
      });
    }
  });

  it("answers HEAD like GET but not as a click", () => {
    expect(decideRedirect(link({ statusCode: 307 }), request("HEAD"), CTX)).toMatchObject({
      kind: "redirect",
      status: 307,
      click: false,
      counted: false,
    });
  });

  it("finds nothing without a record, and nothing for a tombstone", () => {
    expect(decideRedirect(null, request("GET"), CTX)).toEqual({ kind: "not-found" });
    expect(decideRedirect(tombstone(7), request("GET"), CTX)).toEqual({ kind: "not-found" });
    // A tombstone wins over whatever else the record says.
    expect(
      decideRedirect(
        { ...link({ expiresAt: at(NOW - 1), maxClicks: 1 }), ...tombstone(7) },
        request("HEAD"),
        CTX,
      ),
    ).toEqual({
      kind: "not-found",
    });
  });

  it("is gone from the expiry instant on, and redirects the millisecond before", () => {
    expect(decideRedirect(link({ expiresAt: at(NOW + 1) }), request("GET"), CTX)).toMatchObject({
      kind: "redirect",
    });
    expect(decideRedirect(link({ expiresAt: at(NOW) }), request("GET"), CTX)).toEqual({
      kind: "gone",
      reason: "expired",
    });
    expect(decideRedirect(link({ expiresAt: at(NOW - 1) }), request("HEAD"), CTX)).toEqual({
      kind: "gone",
      reason: "expired",
    });
  });

  it("asks for a count before deciding a click-limited link: an increment for GET, a read for HEAD", () => {
    expect(decideRedirect(link({ maxClicks: 3 }), request("GET"), CTX)).toEqual({
      kind: "count",
      linkId: 7,
      increment: true,
    });
    expect(decideRedirect(link({ maxClicks: 3 }), request("HEAD"), CTX)).toEqual({
      kind: "count",
      linkId: 7,
      increment: false,
    });
  });

  it("does not count an expired link", () => {
    expect(decideRedirect(link({ expiresAt: at(NOW), maxClicks: 3 }), request("GET"), CTX)).toEqual({
      kind: "gone",
      reason: "expired",
    });
  });

  it("lets the click that reaches the limit through and refuses the next (GET)", () => {
    expect(decideRedirect(link({ maxClicks: 3 }), request("GET"), CTX, { clicks: 3 })).toMatchObject({
      kind: "redirect",
      click: true,
      counted: true,
    });
    expect(decideRedirect(link({ maxClicks: 3 }), request("GET"), CTX, { clicks: 4 })).toEqual({
      kind: "gone",
      reason: "click-limit",
    });
  });

  it("refuses HEAD once the clicks so far reach the limit", () => {
    expect(decideRedirect(link({ maxClicks: 3 }), request("HEAD"), CTX, { clicks: 2 })).toMatchObject({
      kind: "redirect",
      click: false,
      counted: false,
    });
    expect(decideRedirect(link({ maxClicks: 3 }), request("HEAD"), CTX, { clicks: 3 })).toEqual({
      kind: "gone",
      reason: "click-limit",
    });
  });

  it("fails open when the counter could not answer, and the click is not marked counted", () => {
    expect(decideRedirect(link({ maxClicks: 1 }), request("GET"), CTX, { clicks: null })).toMatchObject({
      kind: "redirect",
      click: true,
      counted: false,
    });
    expect(decideRedirect(link({ maxClicks: 1 }), request("HEAD"), CTX, { clicks: null })).toMatchObject({
      kind: "redirect",
      click: false,
    });
  });

  it("ignores a count for a link without a limit", () => {
    expect(decideRedirect(link(), request("GET"), CTX, { clicks: 1_000_000 })).toMatchObject({
      kind: "redirect",
      counted: false,
    });
  });
});

/** A link whose rules are these, in the API's shape (ids given). */
const withRules = (...rules: Array<Omit<LinkRule, "url"> & { url?: string }>) =>
  link({ rules: rules.map((rule) => ({ url: `https://example.com/${rule.id}`, ...rule })) });
const target = (decision: RedirectDecision) =>
  decision.kind === "redirect" ? `${decision.status} ${decision.location} ${decision.rule}` : decision.kind;
/** The id of the rule that chose the target, null for the link's own. */
const ruleOf = (decision: RedirectDecision) => (decision.kind === "redirect" ? decision.rule : decision.kind);

describe("decideRedirect: rules", () => {
  it("takes the first rule whose conditions all hold, else the link's own target", () => {
    const rules = withRules(
      { id: "ios-de", when: { device: ["ios"], country: ["DE"] } },
      { id: "ios", when: { device: ["ios"] }, statusCode: 307 },
      { id: "de", when: { country: ["DE"] } },
    );
    expect(target(decideRedirect(rules, request("GET", { device: "ios", country: "DE" }), CTX))).toBe(
      "302 https://example.com/ios-de ios-de",
    );
    expect(target(decideRedirect(rules, request("GET", { device: "ios", country: "FR" }), CTX))).toBe(
      "307 https://example.com/ios ios",
    );
    expect(target(decideRedirect(rules, request("GET", { device: "android", country: "DE" }), CTX))).toBe(
      "302 https://example.com/de de",
    );
    expect(target(decideRedirect(rules, request("GET", { device: "desktop", country: null }), CTX))).toBe(
      "302 https://example.com/t null",
    );
  });

  it("reads no fact a failing cheaper condition already ruled out, and none after the rule that matched", () => {
    const rules = withRules(
      { id: "later", when: { after: new Date(NOW + 1).toISOString(), country: ["DE"] } },
      { id: "ended", when: { before: new Date(NOW).toISOString(), device: ["ios"] } },
      { id: "now", when: { after: new Date(NOW).toISOString(), before: new Date(NOW + 1).toISOString() } },
      { id: "never-read", when: { language: ["de"] } },
    );
    // Neither country, device nor languages is given: reading one would throw.
    expect(target(decideRedirect(rules, request("GET"), CTX))).toBe("302 https://example.com/now now");
  });

  it("matches the country fact, and an unknown country matches no country rule", () => {
    const rules = withRules({ id: "at", when: { country: ["AT"] } });
    expect(ruleOf(decideRedirect(rules, request("GET", { country: "AT" }), CTX))).toBe("at");
    expect(ruleOf(decideRedirect(rules, request("GET", { country: null }), CTX))).toBeNull();
    expect(ruleOf(decideRedirect(rules, request("GET", { country: "DE" }), CTX))).toBeNull();
  });

  it("matches the first preferred language, a rule's tag matching more specific ones only", () => {
    const de = withRules({ id: "de", when: { language: ["DE"] } });
    const deAt = withRules({ id: "de-at", when: { language: ["de-AT"] } });
    const first = (languages: string[], rules = de) =>
      ruleOf(decideRedirect(rules, request("GET", { languages }), CTX)) !== null;
    expect(first(["de"])).toBe(true);
    expect(first(["de-ch", "en"])).toBe(true);
    expect(first(["en", "de"])).toBe(false);
    expect(first(["deu"])).toBe(false);
    expect(first([])).toBe(false);
    expect(first(["de-at-x-1"], deAt)).toBe(true);
    expect(first(["de"], deAt)).toBe(false);
    expect(first(["de-ch"], deAt)).toBe(false);
  });

  it("matches query conditions: every one, present or with one of the values", () => {
    const rules = withRules({ id: "q", when: { query: [{ name: "ref", value: "a" }, { name: "debug" }] } });
    const matches = (query: string) =>
      target(decideRedirect(rules, request("GET", { query }), CTX)).endsWith(" q");
    expect(matches("ref=a&debug")).toBe(true);
    expect(matches("ref=b&ref=a&debug=0")).toBe(true);
    expect(matches("ref=a")).toBe(false);
    expect(matches("debug&ref=A")).toBe(false);
    expect(matches("")).toBe(false);
  });

  it("keeps the 303 of an unlocked password link whatever the rule's status", () => {
    const rules = link({
      passwordHash: "x",
      rules: [{ id: "r", when: { device: ["ios"] }, url: "https://example.com/r", statusCode: 301 }],
    });
    expect(
      target(decideRedirect(rules, request("POST", { device: "ios" }), { ...CTX, unlocked: true })),
    ).toBe("303 https://example.com/r r");
  });
});

describe("decideRedirect: query forwarding and UTM", () => {
  it("forwards the query when the link says so, or by the deployment's default when it does not", () => {
    const on = link({ url: "https://example.com/t?a=1", forwardQuery: true });
    const off = link({ url: "https://example.com/t?a=1", forwardQuery: false });
    const unset = link({ url: "https://example.com/t?a=1" });
    const get = request("GET", { query: "a=2&b=3" });
    const byDefault = { ...CTX, forwardQueryByDefault: true };
    expect(target(decideRedirect(on, get, CTX))).toBe("302 https://example.com/t?a=2&b=3 null");
    expect(target(decideRedirect(off, request("GET"), byDefault))).toBe("302 https://example.com/t?a=1 null");
    expect(target(decideRedirect(unset, request("GET"), CTX))).toBe("302 https://example.com/t?a=1 null");
    expect(target(decideRedirect(unset, get, byDefault))).toBe("302 https://example.com/t?a=2&b=3 null");
  });

  it("adds UTM fields over the target's own, and a forwarded parameter over both", () => {
    const utm = link({
      url: "https://example.com/t?utm_source=target&k=1#f",
      utm: { source: "link", medium: "m" },
      forwardQuery: true,
    });
    expect(target(decideRedirect(utm, request("GET", { query: "" }), CTX))).toBe(
      "302 https://example.com/t?k=1&utm_source=link&utm_medium=m#f null",
    );
    expect(target(decideRedirect(utm, request("GET", { query: "utm_source=visitor" }), CTX))).toBe(
      "302 https://example.com/t?k=1&utm_medium=m&utm_source=visitor#f null",
    );
  });
});

describe("decideRedirect: previews", () => {
  const preview = { title: "T" };

  it("gives a preview crawler the preview, as a click for GET and not for HEAD", () => {
    expect(decideRedirect(link({ preview }), request("GET", { previewCrawler: true }), CTX)).toEqual({
      kind: "preview",
      linkId: 7,
      preview,
      click: true,
      counted: false,
    });
    expect(decideRedirect(link({ preview }), request("HEAD", { previewCrawler: true }), CTX)).toMatchObject({
      kind: "preview",
      click: false,
    });
    expect(decideRedirect(link({ preview }), request("GET", { previewCrawler: false }), CTX)).toMatchObject({
      kind: "redirect",
    });
  });

  it("asks nobody whether they crawl for a link without a preview", () => {
    expect(decideRedirect(link(), request("GET"), CTX)).toMatchObject({ kind: "redirect" });
  });

  it("counts a crawler's visit against a click limit, and is gone past it", () => {
    const limited = link({ preview, maxClicks: 1 });
    const crawler = request("GET", { previewCrawler: true });
    expect(decideRedirect(limited, crawler, CTX)).toEqual({ kind: "count", linkId: 7, increment: true });
    expect(decideRedirect(limited, crawler, CTX, { clicks: 1 })).toMatchObject({
      kind: "preview",
      counted: true,
    });
    expect(decideRedirect(limited, crawler, CTX, { clicks: 2 })).toEqual({
      kind: "gone",
      reason: "click-limit",
    });
  });

  it("shows a password link's preview to crawlers and the form to everyone else", () => {
    const locked = link({ preview, passwordHash: "x" });
    expect(decideRedirect(locked, request("GET", { previewCrawler: true }), CTX)).toMatchObject({
      kind: "preview",
    });
    expect(decideRedirect(locked, request("GET", { previewCrawler: false }), CTX)).toEqual({
      kind: "password",
      linkId: 7,
    });
  });

  it("counts only unlocks of a password link: a crawler's preview uses up none of its click limit", () => {
    const locked = link({ preview, passwordHash: "x", maxClicks: 1 });
    const crawler = request("GET", { previewCrawler: true });
    expect(decideRedirect(locked, crawler, CTX)).toEqual({ kind: "count", linkId: 7, increment: false });
    expect(decideRedirect(locked, crawler, CTX, { clicks: 0 })).toEqual({
      kind: "preview",
      linkId: 7,
      preview,
      click: false,
      counted: false,
    });
    expect(decideRedirect(locked, crawler, CTX, { clicks: 1 })).toEqual({
      kind: "gone",
      reason: "click-limit",
    });
  });
});

describe("decideRedirect: password links", () => {
  const locked = (columns: Partial<LinkRecordSource> = {}) => link({ passwordHash: "x", ...columns });

  it("answers the form to GET, HEAD and a POST that did not unlock, before counting anything", () => {
    for (const method of ["GET", "HEAD", "POST"] as const) {
      expect(decideRedirect(locked({ maxClicks: 1 }), request(method), CTX)).toEqual({
        kind: "password",
        linkId: 7,
      });
    }
  });

  it("is gone once expired, without the form", () => {
    expect(decideRedirect(locked({ expiresAt: at(NOW) }), request("GET"), CTX)).toEqual({
      kind: "gone",
      reason: "expired",
    });
  });

  it("redirects an unlocking POST with 303 as one click, counted against a limit", () => {
    const unlocked = { ...CTX, unlocked: true };
    expect(decideRedirect(locked(), request("POST"), unlocked)).toEqual({
      kind: "redirect",
      linkId: 7,
      location: "https://example.com/t",
      status: 303,
      click: true,
      counted: false,
      rule: null,
    });
    expect(decideRedirect(locked({ maxClicks: 1 }), request("POST"), unlocked)).toEqual({
      kind: "count",
      linkId: 7,
      increment: true,
    });
    expect(decideRedirect(locked({ maxClicks: 1 }), request("POST"), unlocked, { clicks: 2 })).toEqual({
      kind: "gone",
      reason: "click-limit",
    });
  });
});
