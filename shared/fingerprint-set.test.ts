import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FingerprintSet } from "./fingerprint-set";

describe("FingerprintSet", () => {
  it("answers as a Set<string> does through any sequence of adds and deletes, past several doublings", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat(3000)), { maxLength: 6000 }),
        fc.array(fc.nat(3000), { maxLength: 200 }),
        (ops, probes) => {
          const model = new Set<string>();
          const set = new FingerprintSet();
          for (const [add, n] of ops) {
            const key = `link:k${n}`;
            if (add) {
              model.add(key);
              set.add(key);
            } else {
              model.delete(key);
              set.delete(key);
            }
          }
          expect(set.size).toBe(model.size);
          for (const key of [...model]) expect(set.has(key), key).toBe(true);
          for (const n of probes) expect(set.has(`link:k${n}`)).toBe(model.has(`link:k${n}`));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps a run of entries whole when one wrapping around the table's end is deleted", () => {
    // Small tables filled near their load limit, so runs are long and some wrap past the last slot; each set
    // has its own seed, so the runs fall elsewhere each time.
    const keys = Array.from({ length: 716 }, (_, n) => `k${n}`);
    for (let run = 0; run < 30; run++) {
      const set = new FingerprintSet();
      for (const key of keys) set.add(key);
      for (const key of keys.filter((_, n) => n % 3 === 0)) set.delete(key);
      expect(keys.filter((key) => set.has(key))).toEqual(keys.filter((_, n) => n % 3 !== 0));
      expect(set.size).toBe(keys.length - Math.ceil(keys.length / 3));
    }
  });

  it("tells apart keys that differ in one character, and non-ASCII ones", () => {
    const set = new FingerprintSet();
    for (const key of ["link:a", "link:ex.test/a", "link:é", "link:\u{1F600}"]) set.add(key);
    expect(
      ["link:a", "link:b", "link:ex.test/a", "link:ex.test/b", "link:é", "link:e", "link:\u{1F600}", ""].map(
        (k) => set.has(k),
      ),
    ).toEqual([true, false, true, false, true, false, true, false]);
  });
});
