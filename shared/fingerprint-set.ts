/**
 * A set of strings kept as 64-bit fingerprints in one typed array (open addressing, linear probing): what the
 * edge's index of KV keys (kv-key-index.ts) holds a million keys in. Against a `Set<string>` it takes 11–22 bytes
 * a key whatever the key's length, and gives the garbage collector nothing to trace (docs/benchmarks.md, "Issue
 * 19, the index of KV keys at scale"). Written here because no library keeps exact 64-bit fingerprints with
 * deletes in a typed array (Bloom and cuckoo filters answer "maybe", and cannot delete or are far larger).
 *
 * Two keys with one fingerprint are one key here: `has` of an absent key answers true with a chance of about
 * size / 2^64 (costing the index one KV read), and deleting a key could hide another with the same fingerprint
 * (as unlikely). The hash is seeded per set, so keys chosen to collide (for long probe runs) cannot be chosen
 * in advance.
 *
 * @example
 *   const keys = new FingerprintSet();
 *   keys.add("link:abc");
 *   keys.has("link:abc"); // true
 */

/** Keys per slot at most before the table doubles: a miss then probes ~4 slots on average. */
const MAX_LOAD = 0.7;
const MIN_SLOTS = 1024;

export class FingerprintSet {
  /** Two numbers a slot: the fingerprint's high and low 32 bits; 0, 0 is an empty slot. */
  private slots: Uint32Array;
  private mask: number;
  private count = 0;
  private readonly seed = crypto.getRandomValues(new Uint32Array(1))[0] as number;
  /** The fingerprint `fingerprint` computed last (no array allocated per key). */
  private hi = 0;
  private lo = 0;

  constructor() {
    this.slots = new Uint32Array(2 * MIN_SLOTS);
    this.mask = MIN_SLOTS - 1;
  }

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    this.fingerprint(key);
    return this.slotOf(this.hi, this.lo) >= 0;
  }

  add(key: string): void {
    this.fingerprint(key);
    if (this.slotOf(this.hi, this.lo) >= 0) return;
    if (this.count + 1 > (this.mask + 1) * MAX_LOAD) this.grow();
    this.put(this.hi, this.lo);
  }

  delete(key: string): void {
    this.fingerprint(key);
    let hole = this.slotOf(this.hi, this.lo);
    if (hole < 0) return;
    const { slots, mask } = this;
    // Backward-shift deletion: later entries of the run move into the hole unless their home is after it.
    for (let j = (hole + 1) & mask; slots[2 * j] !== 0 || slots[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = (slots[2 * j + 1] as number) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      slots[2 * hole] = slots[2 * j] as number;
      slots[2 * hole + 1] = slots[2 * j + 1] as number;
      hole = j;
    }
    slots[2 * hole] = 0;
    slots[2 * hole + 1] = 0;
    this.count -= 1;
  }

  /** The slot holding `hi, lo`, or `~slot` of the empty slot where it would go. */
  private slotOf(hi: number, lo: number): number {
    const { slots, mask } = this;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const h = slots[2 * i] as number;
      const l = slots[2 * i + 1] as number;
      if (h === hi && l === lo) return i;
      if (h === 0 && l === 0) return ~i;
    }
  }

  private put(hi: number, lo: number): void {
    const at = ~this.slotOf(hi, lo);
    this.slots[2 * at] = hi;
    this.slots[2 * at + 1] = lo;
    this.count += 1;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(2 * old.length);
    this.mask = old.length - 1;
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.put(old[i] as number, old[i + 1] as number);
    }
  }

  /**
   * 64 bits of `key` (its UTF-16 code units) into `hi`, `lo`: cyrb53's mixing (public domain, github.com/bryc/code)
   * keeping both 32-bit halves; never 0, 0 (the empty slot).
   */
  private fingerprint(key: string): void {
    let h1 = 0xdeadbeef ^ this.seed;
    let h2 = 0x41c6ce57 ^ this.seed;
    for (let i = 0; i < key.length; i++) {
      const ch = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.hi = h2 >>> 0;
    this.lo = h1 >>> 0 || (this.hi === 0 ? 1 : 0);
  }
}
