import { describe, expect, it } from "vitest";
import { deviceOf, preferredLanguages, requestFacts } from "./request-facts";

describe("requestFacts", () => {
  it("reads a header only when its fact is asked for, and once", () => {
    const reads: string[] = [];
    const headers = new Headers({ "x-country": "DE", "user-agent": "Mozilla/5.0 (iPhone)" });
    const req = {
      method: "GET",
      url: "https://sho.rt/abc?utm_source=x",
      headers: {
        get(name: string) {
          reads.push(name);
          return headers.get(name);
        },
      },
    } as unknown as Request;
    const facts = requestFacts(req, "x-country");
    expect(facts.method).toBe("GET");
    expect(reads).toEqual([]);
    expect([facts.country, facts.country]).toEqual(["DE", "DE"]);
    expect([facts.device, facts.device]).toEqual(["ios", "ios"]);
    expect(reads).toEqual(["x-country", "user-agent"]);
    expect(facts.query.get("utm_source")).toBe("x");
    expect(facts.query).toBe(facts.query);
  });

  it("prefers Cloudflare's country to the trusted header, and trusts no header unless told", () => {
    const req = new Request("https://sho.rt/abc", { headers: { "x-country": "DE" } });
    expect(requestFacts(req, "x-country").country).toBe("DE");
    expect(requestFacts(req, null).country).toBeNull();
    Object.defineProperty(req, "cf", { value: { country: "FR" } });
    expect(requestFacts(req, "x-country").country).toBe("FR");
  });
});

describe("deviceOf", () => {
  it("tells iOS, Android and the rest apart", () => {
    expect(deviceOf("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)")).toBe("ios");
    expect(deviceOf("Mozilla/5.0 (Linux; Android 14; Pixel 8)")).toBe("android");
    expect(deviceOf("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")).toBe("desktop");
    expect(deviceOf("")).toBe("desktop");
  });
});

describe("preferredLanguages", () => {
  it("orders by q-value, keeps the header's order for equal q, drops q=0, * and junk", () => {
    expect(preferredLanguages("fr;q=0.5, de-DE, en;q=0.8, de;q=0.8, *;q=0.1, it;q=0, x;q=abc")).toEqual([
      "de-de",
      "en",
      "de",
      "fr",
    ]);
    expect(preferredLanguages("")).toEqual([]);
  });
});
