import { describe, expect, it } from "vitest";
import { normalizeHost } from "./host";

describe("normalizeHost", () => {
  it.each([
    ["acme.link", "acme.link", "acme.link"],
    ["ACME.Link", "acme.link", "acme.link"],
    ["acme.link.", "acme.link", "acme.link"],
    ["acme.link:80", "acme.link", "acme.link"],
    ["acme.link:443", "acme.link", "acme.link"],
    ["acme.link.:443", "acme.link", "acme.link"],
    ["acme.link:8080", "acme.link:8080", "acme.link"],
    ["ACME.link:08080", "acme.link:8080", "acme.link"],
    ["bücher.example", "xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["Bücher.Example.:8443", "xn--bcher-kva.example:8443", "xn--bcher-kva.example"],
    ["ｓｈｏ.ｒｔ", "sho.rt", "sho.rt"],
    ["localhost:8787", "localhost:8787", "localhost"],
    ["127.0.0.1:8080", "127.0.0.1:8080", "127.0.0.1"],
    ["[::1]:8080", "[::1]:8080", "[::1]"],
    // A last label that reads as a number makes the name an IPv4 address, as browsers and the runtime parse it.
    ["127.1", "127.0.0.1", "127.0.0.1"],
    ["0x7f.1:8080", "127.0.0.1:8080", "127.0.0.1"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example", "xn--bcher-kva.example"],
    [`${"a".repeat(63)}.example`, `${"a".repeat(63)}.example`, `${"a".repeat(63)}.example`],
  ])("normalizes case %# to %s", (raw, host, hostname) => {
    expect(normalizeHost(raw)).toEqual({ host, hostname });
  });

  it.each([
    ["", "empty"],
    ["acme.link/launch", "not-a-host"],
    ["user@acme.link", "not-a-host"],
    ["https://acme.link", "not-a-host"],
    ["acme.link?x=1", "not-a-host"],
    ["acme.link#x", "not-a-host"],
    ["acme .link", "not-a-host"],
    ["acme.link\\evil", "not-a-host"],
    ["acme\u0000.link", "not-a-host"],
    ["acme..link", "not-a-host"],
    [".", "not-a-host"],
    ["acme.link..", "not-a-host"],
    ["exa<mple.com", "not-a-host"],
    [`${"a".repeat(64)}.example`, "label-too-long"],
    [`${"ü".repeat(60)}.example`, "label-too-long"],
    [Array(64).fill("abc").join("."), "name-too-long"],
    ["x".repeat(5000), "name-too-long"],
    ["acme.link:0", "bad-port"],
    ["acme.link:65536", "bad-port"],
    ["acme.link:http", "bad-port"],
    ["acme.link:80:80", "not-a-host"],
    // Look already normal, but no URL parser accepts them: invalid punycode, a number that is no IPv4 address.
    ["xn--a.com", "not-a-host"],
    ["xn--", "not-a-host"],
    ["foo.123", "not-a-host"],
    ["1.2.3.4.5", "not-a-host"],
    ["999.1.1.1", "not-a-host"],
  ])("refuses case %# (%s)", (raw, problem) => {
    expect(normalizeHost(raw)).toEqual({ problem });
  });

  it("gives the fast path and the parser the same answer for already-normal names", () => {
    for (const raw of ["a.b", "a-b.c:1", "x.y:65535", "x.y:65536", "abc", "0x7f.1", "127.1", "xn--a.com"]) {
      const viaParser = normalizeHost(`${raw.toUpperCase()}`);
      expect(normalizeHost(raw)).toEqual(viaParser);
    }
  });
});
