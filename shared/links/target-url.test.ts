import { describe, expect, it } from "vitest";
import { parseTargetUrl, TARGET_URL_MAX_LENGTH, type TargetUrlPolicy } from "./target-url";

/**
 * One block per rule. Every refused input has a host and would pass every other rule,
 * so breaking one rule alone makes its block fail (the problem named changes or the
 * input is accepted).
 */

const policy: TargetUrlPolicy = { ownHosts: ["sho.test"], allowPrivate: false };
const problemOf = (raw: string, p: TargetUrlPolicy = policy) => parseTargetUrl(raw, p).problem ?? "accepted";
const hrefOf = (raw: string, p: TargetUrlPolicy = policy) => parseTargetUrl(raw, p).href;

describe("parseTargetUrl", () => {
  it("accepts a plain https URL and returns its normalized href", () => {
    expect(parseTargetUrl("https://example.com/a?b=c#d", policy)).toEqual({
      href: "https://example.com/a?b=c#d",
    });
    expect(hrefOf("HTTP://Example.COM:80/a/../b")).toBe("http://example.com/b");
  });

  it("stores an IDN host as punycode and percent-encodes the path, query and fragment", () => {
    expect(hrefOf("https://bücher.example/ä b?q=ü#ö")).toBe(
      "https://xn--bcher-kva.example/%C3%A4%20b?q=%C3%BC#%C3%B6",
    );
  });

  it.each([
    "javascript://example.com/%0Aalert(1)",
    "JavaScript://example.com/alert(1)",
    "data://example.com/text",
    "ftp://example.com/file",
    "ws://example.com/socket",
    "file://example.com/etc/passwd",
  ])("refuses a scheme other than http and https, host or not: %s", (raw) => {
    expect(problemOf(raw)).toBe("scheme-not-allowed");
  });

  it.each([
    "http:example.com",
    "https:example.com/x",
    "http:/example.com/",
    "http:\\\\example.com/",
    "http:///example.com/",
  ])("refuses a URL whose host does not follow http(s):// (a browser may read it as relative): %s", (raw) => {
    expect(problemOf(raw)).toBe("slashes-required");
  });

  it.each([
    "https://example.com\\@evil.example/",
    "https://example.com\\evil.example/",
    "http://\\example.com/",
  ])("refuses a backslash before the path, where parsers disagree on the host: %s", (raw) => {
    expect(problemOf(raw)).toBe("backslash-in-authority");
  });

  it("keeps a backslash after the host, where every reading has the same host", () => {
    expect(hrefOf("https://example.com/?q=a\\b")).toBe("https://example.com/?q=a\\b");
  });

  it.each([
    "https://user:pass@example.com/",
    "https://user@example.com/",
    "https://@example.com/",
    "https://example.com@evil.example/",
  ])("refuses credentials or any @ before the host: %s", (raw) => {
    expect(problemOf(raw)).toBe("credentials-not-allowed");
  });

  it.each([
    "https://sho.test/x",
    "HTTPS://SHO.TEST/x",
    "https://sho.test./x",
    "https://sho.test:8443/x",
    "http://sh%6F.test/x",
    "https://ｓｈｏ.test/x",
  ])("refuses this service's own host however it is written: %s", (raw) => {
    expect(problemOf(raw)).toBe("self-redirect");
  });

  it("compares own hosts in their normalized form", () => {
    const idnService = { ownHosts: ["xn--bcher-kva.example", "Sho.Test."], allowPrivate: true };
    expect(problemOf("https://bücher.example/loop", idnService)).toBe("self-redirect");
    expect(problemOf("https://sho.test/loop", idnService)).toBe("self-redirect");
  });

  it.each([
    "http://localhost:8787/x",
    "http://app.localhost/",
    "http://localhost./",
    "http://127.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0.0.0.0/",
    "http://10.1.2.3/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
  ])("refuses localhost and loopback, private or link-local addresses by default: %s", (raw) => {
    expect(problemOf(raw)).toBe("private-host");
  });

  it("accepts them when the deployment allows private targets, normalized", () => {
    const local = { ownHosts: ["sho.test"], allowPrivate: true };
    expect(hrefOf("http://127.1:8080/x", local)).toBe("http://127.0.0.1:8080/x");
    expect(hrefOf("http://[::ffff:127.0.0.1]/", local)).toBe("http://[::ffff:7f00:1]/");
  });

  it("refuses control characters the parser would strip", () => {
    expect(problemOf("https://example.com/a\nb")).toBe("control-characters");
    expect(problemOf("https://exa\tmple.com/")).toBe("control-characters");
  });

  it("refuses what is not an absolute URL", () => {
    expect(problemOf("/just/a/path")).toBe("not-a-url");
    expect(problemOf("https://exa mple.com/")).toBe("not-a-url");
  });

  it("refuses an input longer than the limit, even when its normalized form is short", () => {
    const raw = `https://example.com/${"a/../".repeat(420)}`;
    expect(raw.length).toBeGreaterThan(TARGET_URL_MAX_LENGTH);
    expect(problemOf(raw)).toBe("too-long");
  });

  it("refuses an input that percent-encoding makes longer than the limit", () => {
    const raw = `https://example.com/${"ä".repeat(400)}`;
    expect(raw.length).toBeLessThan(TARGET_URL_MAX_LENGTH);
    expect(problemOf(raw)).toBe("too-long");
  });
});
