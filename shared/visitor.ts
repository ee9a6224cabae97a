import { sha256 } from "@noble/hashes/sha2.js";

const encoder = new TextEncoder();
/**
 * Reused on every call, so a hash allocates no ArrayBuffer: in workerd each one (the encoded input,
 * the hasher's block buffer, the digest) cost more than the hashing, and the hash with them was
 * about a fifth of a redirect's CPU (docs/benchmarks.md, "Issue 19, the click's cost at the edge").
 * `_cloneInto` is how @noble/hashes' own PBKDF2 and HKDF reset a hasher to a saved state.
 */
const initialState = sha256.create();
const hasher = sha256.create();
const digest = new Uint8Array(32);
/** Salt, day, IP and a user agent of up to 1,024 characters fit; a longer input is encoded apart. */
const encoded = new Uint8Array(4096);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * A salted daily hash of IP and user agent: counts unique visitors per day without
 * storing the IP, and cannot be joined across days because the day is in the input.
 * Synchronous (@noble/hashes, audited): it runs once per click on the redirect path, and
 * `crypto.subtle.digest`'s promise round trip costs more than the hash itself.
 */
export function visitorHash(salt: string, ip: string, userAgent: string, ts: number): string {
  const text = `${salt}|${utcDay(ts)}|${ip}|${userAgent}`;
  const { read, written } = encoder.encodeInto(text, encoded);
  initialState._cloneInto(hasher);
  hasher.update(read === text.length ? encoded.subarray(0, written) : encoder.encode(text));
  hasher.digestInto(digest);
  let hex = "";
  for (let i = 0; i < 16; i++) hex += HEX[digest[i] as number];
  return hex;
}

const DAY_MS = 86_400_000;
let cachedDay = { n: Number.NaN, text: "" };

/** "YYYY-MM-DD" of `ts` in UTC; the last day is kept, as every click of a day asks for it. */
function utcDay(ts: number): string {
  const n = Math.floor(ts / DAY_MS);
  if (n !== cachedDay.n) cachedDay = { n, text: new Date(n * DAY_MS).toISOString().slice(0, 10) };
  return cachedDay.text;
}
