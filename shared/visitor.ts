import { sha256 } from "@noble/hashes/sha2.js";

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * A salted daily hash of IP and user agent: counts unique visitors per day without
 * storing the IP, and cannot be joined across days because the day is in the input.
 * Synchronous (@noble/hashes, audited): it runs once per click on the redirect path, and
 * `crypto.subtle.digest`'s promise round trip costs more than the hash itself.
 */
export function visitorHash(salt: string, ip: string, userAgent: string, ts: number): string {
  const day = utcDay(ts);
  const digest = sha256(encoder.encode(`${salt}|${day}|${ip}|${userAgent}`));
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
