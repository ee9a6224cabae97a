import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { locationFor } from "./location";
import { parseTargetUrl } from "./target-url";

let parses = 0;
const CountingURL = class extends URL {
  constructor(url: string | URL, base?: string | URL) {
    super(url, base);
    parses++;
  }
};
/** Counts URL parses made while `run` runs. */
function countingParses<T>(run: () => T): T {
  vi.stubGlobal("URL", CountingURL);
  try {
    return run();
  } finally {
    vi.unstubAllGlobals();
  }
}
afterEach(() => {
  parses = 0;
});

describe("locationFor", () => {
  it("serves a stored href as it is, without parsing it", () => {
    const href = "https://xn--bcher-kva.example/%C3%A4?q=a\\b#top";
    expect(countingParses(() => locationFor(href))).toBe(href);
    expect(parses).toBe(0);
  });

  it("recognizes every href the target URL rules store", () => {
    const policy = { ownHosts: [], allowPrivate: true };
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        const { href } = parseTargetUrl(url, policy);
        if (href === undefined) return;
        expect(countingParses(() => locationFor(href))).toBe(href);
        expect(parses).toBe(0);
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it.each([
    ["a raw UTF-8 host and path", "https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"],
    ["a target without slashes, which a browser reads as relative", "http:loop", "http://loop/"],
    [
      "a backslash in the authority",
      "https://example.com\\@evil.example/",
      "https://example.com/@evil.example/",
    ],
    ["an uppercase scheme", "HTTPS://EXAMPLE.COM/A", "https://example.com/A"],
    ["a host without a path", "https://example.com?q", "https://example.com/?q"],
    ["a query with a slash right after the host", "https://example.com?a=/b", "https://example.com/?a=/b"],
    ["a fragment with a slash right after the host", "https://example.com#/b", "https://example.com/#/b"],
    [
      "a backslash ending the host",
      "https://example.com\\evil.example/x",
      "https://example.com/evil.example/x",
    ],
    ["empty userinfo", "https://@example.com/x", "https://example.com/x"],
    ["a space in the path", "https://example.com/a b", "https://example.com/a%20b"],
  ])("normalizes an old record stored raw: %s", (_, stored, location) => {
    expect(countingParses(() => locationFor(stored))).toBe(location);
    expect(parses).toBe(1);
  });
});
