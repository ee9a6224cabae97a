import { ClickEventSchema } from "@shared/events";
import { describe, expect, it } from "vitest";
import { buildClickEvent, clientIp, uuidFromRequestId } from "./click-event";

const facts = {
  requestId: null,
  linkId: 9,
  domain: "acme.link",
  slug: "abc",
  ts: Date.UTC(2026, 10, 23, 12),
  ip: "198.51.100.4",
  country: "DE",
  referrer: "https://r.example/",
  userAgent: "UA",
  counted: false,
  rule: null,
};

describe("buildClickEvent", () => {
  it("takes the id from a trusted request id, so LB retries share it", () => {
    const id = "0123456789abcdef0123456789abcdef";
    const a = buildClickEvent({ ...facts, requestId: id }, "salt");
    const b = buildClickEvent({ ...facts, requestId: id }, "salt");
    expect(a.id).toBe("01234567-89ab-4def-8123-456789abcdef");
    expect(b.id).toBe(a.id);
    // The aggregator validates ids as UUIDs: a bare 8-4-4-4-12 split of nginx's hex was refused as malformed.
    expect(ClickEventSchema.safeParse(a).success).toBe(true);
    for (const hex of ["ffffffffffffffffffffffffffffffff", "00000000000000000000000000000000"]) {
      expect(ClickEventSchema.safeParse({ ...a, id: uuidFromRequestId(hex) }).success).toBe(true);
    }
  });

  it("makes a random id otherwise, and for request ids that are not nginx's", () => {
    const a = buildClickEvent(facts, "salt");
    const b = buildClickEvent({ ...facts, requestId: "not-hex" }, "salt");
    expect(a.id).not.toBe(b.id);
    expect(uuidFromRequestId("XYZ")).toBeNull();
  });

  it("hashes the visitor per day and salt, never keeping the IP", () => {
    const a = buildClickEvent(facts, "salt");
    const sameDay = buildClickEvent({ ...facts, ts: facts.ts + 3_600_000 }, "salt");
    const nextDay = buildClickEvent({ ...facts, ts: facts.ts + 86_400_000 }, "salt");
    const otherSalt = buildClickEvent(facts, "pepper");
    expect(sameDay.visitor).toBe(a.visitor);
    expect(nextDay.visitor).not.toBe(a.visitor);
    expect(otherSalt.visitor).not.toBe(a.visitor);
    expect(JSON.stringify(a)).not.toContain(facts.ip);
  });
});

describe("clientIp", () => {
  const request = (headers: Record<string, string>, cf?: object) =>
    ({ headers: new Headers(headers), cf }) as unknown as Request;

  it("reads only the header the deployment trusts; the last entry of a list is the proxy's", () => {
    const both = request({ "cf-connecting-ip": "1.1.1.1", "x-real-ip": "2.2.2.2" });
    expect(clientIp(both, "x-real-ip")).toBe("2.2.2.2");
    expect(clientIp(both, "cf-connecting-ip")).toBe("1.1.1.1");
    expect(clientIp(both, null)).toBe("");
    expect(clientIp(request({ "x-forwarded-for": "6.6.6.6, 3.3.3.3" }), "x-forwarded-for")).toBe("3.3.3.3");
    expect(clientIp(request({}), "x-real-ip")).toBe("");
  });

  it("falls back to CF-Connecting-IP only for a request that came through Cloudflare (request.cf)", () => {
    const headers = { "cf-connecting-ip": "1.1.1.1", "x-real-ip": "2.2.2.2" };
    expect(clientIp(request(headers, { country: "DE" }), null)).toBe("1.1.1.1");
    expect(clientIp(request(headers), null)).toBe("");
    expect(clientIp(request(headers, { country: "DE" }), "x-real-ip")).toBe("2.2.2.2");
  });
});
