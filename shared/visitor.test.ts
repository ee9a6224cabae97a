import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { visitorHash } from "./visitor";

const reference = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("visitorHash", () => {
  it("is the first 16 bytes of SHA-256 over salt|day|ip|ua (node:crypto agrees), as before the library swap", () => {
    // Rollups dedupe visitors by this value within a day: a change would double-count the day of a deploy.
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme" }),
        fc.ipV4(),
        fc.string({ unit: "grapheme", maxLength: 300 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (salt, ip, ua, ts) => {
          const day = new Date(ts).toISOString().slice(0, 10);
          return visitorHash(salt, ip, ua, ts) === reference(`${salt}|${day}|${ip}|${ua}`).slice(0, 32);
        },
      ),
    );
  });

  it("changes with the UTC day, also when calls go back and forth across midnight", () => {
    const midnight = Date.UTC(2026, 10, 24);
    const before = visitorHash("s", "192.0.2.1", "ua", midnight - 1);
    const after = visitorHash("s", "192.0.2.1", "ua", midnight);
    expect(after).not.toBe(before);
    expect(visitorHash("s", "192.0.2.1", "ua", midnight - 1)).toBe(before);
    expect(visitorHash("s", "192.0.2.1", "ua", midnight + 86_399_999)).toBe(after);
  });
});

describe("visitorHash on long inputs", () => {
  it("agrees with node:crypto when the input is longer than its reused buffer, and on the next short one", () => {
    // 5,000 three-byte characters are 15,000 bytes: past the 4,096-byte buffer, so the input is encoded apart.
    const longUa = "€".repeat(5000);
    const ts = Date.UTC(2026, 11, 2);
    expect(visitorHash("salt", "192.0.2.1", longUa, ts)).toBe(
      reference(`salt|2026-12-02|192.0.2.1|${longUa}`).slice(0, 32),
    );
    expect(visitorHash("salt", "192.0.2.1", "ua", ts)).toBe(
      reference("salt|2026-12-02|192.0.2.1|ua").slice(0, 32),
    );
  });

  it("agrees with node:crypto at the buffer's edge: exactly 4,096 bytes, and a character that would straddle it", () => {
    const ts = Date.UTC(2026, 11, 2);
    const prefix = "salt|2026-12-02|192.0.2.1|";
    // The whole input is prefix + ua; 4,096 bytes exactly, then one byte short of room for a last 4-byte emoji.
    const exact = "a".repeat(4096 - prefix.length);
    const straddling = `${"a".repeat(4096 - prefix.length - 2)}😀`;
    for (const ua of [exact, straddling, `${exact}b`]) {
      expect(visitorHash("salt", "192.0.2.1", ua, ts)).toBe(reference(prefix + ua).slice(0, 32));
    }
  });
});
