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
