import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256 } from "./sha256";
import { visitorHash } from "./visitor";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const reference = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("sha256", () => {
  it("matches the FIPS 180-4 test vectors", () => {
    expect(hex(sha256(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(sha256("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("matches node:crypto at every padding boundary and for any unicode text", () => {
    // 55/56 and 119/120 bytes: where the length no longer fits the last block.
    for (let n = 0; n <= 200; n++)
      expect(hex(sha256("x".repeat(n))), `length ${n}`).toBe(reference("x".repeat(n)));
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 300 }),
        (text) => hex(sha256(text)) === reference(text),
      ),
    );
  });
});

describe("visitorHash", () => {
  it("is the first 16 bytes of SHA-256 over salt|day|ip|ua, as before the synchronous hash", () => {
    // Rollups dedupe visitors by this value within a day: a change would double-count the day of a deploy.
    fc.assert(
      fc.property(
        fc.string(),
        fc.ipV4(),
        fc.string(),
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
