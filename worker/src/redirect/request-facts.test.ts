import { describe, expect, it } from "vitest";
import { deviceOf, isPreviewCrawler, preferredLanguages, requestFacts, searchOf } from "./request-facts";

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
    expect(facts.query.getAll("utm_source")).toEqual(["x"]);
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

  it("counts iPadOS in desktop mode (it says Macintosh) and Android-less Linux as desktop", () => {
    expect(
      deviceOf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.0 Safari"),
    ).toBe("desktop");
    expect(deviceOf("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")).toBe("desktop");
    // Case matters: these are the spellings the platforms send, and "android" in a query-like UA is no Android.
    expect(deviceOf("curl/8 (android)")).toBe("desktop");
    expect(deviceOf("Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5 like Mac OS X)")).toBe("ios");
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

  it("reads q case-insensitively and around spaces, and takes q=1 for a tag without one", () => {
    expect(preferredLanguages("en ; Q=0.4 , de")).toEqual(["de", "en"]);
    expect(preferredLanguages("fr;q=1.0, en;q=0.999")).toEqual(["fr", "en"]);
    expect(preferredLanguages(",,;q=0.5, *")).toEqual([]);
    expect(preferredLanguages("de;q=-1, en;q=Infinity, fr;q=")).toEqual([]);
  });
});

describe("isPreviewCrawler", () => {
  it("knows the chat and social unfurlers, not their in-app browsers", () => {
    for (const ua of [
      "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
      "Twitterbot/1.0",
      "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
      "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
      "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
      "WhatsApp/2.23.20.0 A",
      "TelegramBot (like TwitterBot)",
    ]) {
      expect(isPreviewCrawler(ua), ua).toBe(true);
    }
    for (const ua of [
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0]",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Twitter for iPhone/10.0",
      "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36 [LinkedInApp]",
      "Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537.36 WhatsApp/2.23",
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "",
    ]) {
      expect(isPreviewCrawler(ua), ua).toBe(false);
    }
  });
});

describe("searchOf", () => {
  it("is the query between ? and #, without parsing", () => {
    expect(searchOf("https://sho.rt/a?x=1&y#frag")).toBe("x=1&y");
    expect(searchOf("https://sho.rt/a?")).toBe("");
    expect(searchOf("https://sho.rt/a")).toBe("");
    expect(searchOf("https://sho.rt/a#f?x")).toBe("");
  });
});
