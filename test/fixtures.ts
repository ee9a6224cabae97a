import type { ClickEvent } from "@shared/events";

/** Shared test data: real user agents and a valid click event. */

export const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
export const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
export const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/** A valid click event; override any field. */
export function clickEvent(overrides: Partial<ClickEvent> = {}): ClickEvent {
  return {
    id: crypto.randomUUID(),
    linkId: 1,
    slug: "abc",
    ts: Date.UTC(2026, 10, 23, 10, 30),
    country: "DE",
    referrer: "https://www.news.example.org/a?b=1",
    userAgent: CHROME,
    visitor: "0123456789abcdef0123456789abcdef",
    ...overrides,
  };
}
