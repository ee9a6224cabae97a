/**
 * `npx tsx bench/password-kdf.ts`: what one password attempt costs on the edge. Runs
 * PBKDF2-SHA256 through Web Crypto inside workerd (Miniflare, the version the project
 * deploys with) at several iteration counts, 20 derivations per request, 5 rounds, and
 * prints the median and spread of milliseconds per derivation. PBKDF2 is one thread of pure
 * CPU, so a request's wall time is its CPU time on a machine that is not saturated (the
 * load average is printed); Node's own PBKDF2 (OpenSSL) is measured in process CPU time, which
 * other load does not move, as the floor. Also asks workerd for 100,001 iterations, which
 * Cloudflare's runtime refuses.
 */
import { pbkdf2Sync } from "node:crypto";
import { loadavg } from "node:os";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { COMPATIBILITY_DATE } from "../selfhost/workerd-config";
import { median } from "./report";

const SCRIPT = `
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    const iterations = Number(url.searchParams.get("i"));
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("correct horse"), "PBKDF2", false, ["deriveBits"]);
    const salt = crypto.getRandomValues(new Uint8Array(16));
    try {
      for (let k = 0; k < n; k++) await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
    } catch (err) {
      return new Response(String(err), { status: 400 });
    }
    return new Response("ok");
  },
};`;

const PER_REQUEST = 20;
const ROUNDS = 5;

const mf = new Miniflare(
  convertV4MiniflareOptions({
    workers: [{ name: "kdf", modules: true, script: SCRIPT, compatibilityDate: COMPATIBILITY_DATE }],
  }),
);
try {
  await mf.ready;
  const refused = await mf.dispatchFetch("http://x/?n=1&i=100001");
  console.log(`100,001 iterations: ${refused.status} ${await refused.text()}`);
  console.log(`load average before: ${loadavg()[0]?.toFixed(2)}`);
  for (const iterations of [1, 10_000, 50_000, 100_000]) {
    const perAttempt: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const start = performance.now();
      const res = await mf.dispatchFetch(`http://x/?n=${PER_REQUEST}&i=${iterations}`);
      await res.text();
      perAttempt.push((performance.now() - start) / PER_REQUEST);
    }
    const fmt = (ms: number) => ms.toFixed(2);
    console.log(
      `${iterations} iterations: ${fmt(median(perAttempt))} ms per attempt (${fmt(Math.min(...perAttempt))}–${fmt(Math.max(...perAttempt))})`,
    );
  }
  console.log(`load average after: ${loadavg()[0]?.toFixed(2)}`);
  const cpuBefore = process.cpuUsage();
  for (let k = 0; k < PER_REQUEST; k++)
    pbkdf2Sync("correct horse", "0123456789abcdef", 100_000, 32, "sha256");
  const cpu = process.cpuUsage(cpuBefore);
  console.log(
    `node:crypto, 100000 iterations: ${((cpu.user + cpu.system) / 1000 / PER_REQUEST).toFixed(2)} ms CPU per attempt`,
  );
} finally {
  await mf.dispose();
}
