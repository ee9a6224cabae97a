import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket";

const takes = (bucket: TokenBucket, n: number, now: number) =>
  Array.from({ length: n }, () => bucket.take(now)).filter(Boolean).length;

describe("TokenBucket", () => {
  it("allows a burst of perSecond, then nothing until time passes", () => {
    const bucket = new TokenBucket(5);
    expect(takes(bucket, 8, 1000)).toBe(5);
    expect(bucket.take(1000)).toBe(false);
  });

  it("earns perSecond tokens a second, never more than one burst", () => {
    const bucket = new TokenBucket(4);
    takes(bucket, 4, 0);
    expect(takes(bucket, 10, 500)).toBe(2);
    expect(takes(bucket, 10, 60_000)).toBe(4);
  });

  it("a zero budget never allows anything", () => {
    expect(takes(new TokenBucket(0), 3, 0)).toBe(0);
  });

  it("does not earn tokens from a clock that goes back", () => {
    const bucket = new TokenBucket(2);
    takes(bucket, 2, 10_000);
    expect(bucket.take(5_000)).toBe(false);
    expect(bucket.take(5_100)).toBe(false);
  });
});
