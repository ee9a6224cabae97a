/**
 * An open-loop load at a fixed rate, for latency at a given offered load.
 *
 * autocannon's `-R` lets every connection fire as fast as it can until the second's
 * quota is spent, then idle: the "fixed rate" arrives in bursts and the queueing they
 * cause dominates p99 (a constant-302 worker showed p99 15 ms at 1k req/s). Here request
 * i is due at start + i/rate, and its latency is counted from when it was due, not when
 * a connection was free to send it (no coordinated omission, as in wrk2).
 *
 * Raw keep-alive sockets and a minimal HTTP/1.1 reader keep the generator's own cost low.
 * Prints one JSON line. Usage: tsx bench/paced-load.ts <url> <rate> <seconds> [connections];
 * a `*` in the url's path is replaced by a new random slug on each request.
 */
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";

export type PacedResult = {
  offered: number;
  sent: number;
  completed: number;
  rps: number;
  byStatus: Record<string, number>;
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p95: number; p99: number; p999: number; max: number };
};

const TIMEOUT_MS = 10_000;

type Conn = { socket: Socket; busy: boolean; due: number; buf: Buffer; closing: boolean };

function runPaced(url: URL, rate: number, seconds: number, connections = 64): Promise<PacedResult> {
  const text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: Mozilla/5.0 bench\r\n\r\n`;
  const fixed = Buffer.from(text);
  // A `*` in the path becomes a new random slug on each request: a flood of never-seen slugs.
  const request = url.pathname.includes("*") ? () => text.replace("*", randomSlug()) : () => fixed;
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  const byStatus: Record<string, number> = {};
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let timeouts = 0;
  let timer: NodeJS.Timeout | undefined;
  // The schedule starts once every connection is open: connecting is not what is measured.
  let start = Number.POSITIVE_INFINITY;
  let connected = 0;
  let lastDone = 0;
  const dueAt = (i: number) => start + (i * 1000) / rate;

  return new Promise((resolve, reject) => {
    const idle: Conn[] = [];
    let finished = false;
    const finishIfDone = () => {
      if (finished) return;
      if (sent < total || completed + errors + timeouts < sent) return;
      finished = true;
      clearTimeout(timer);
      clearInterval(watchdog);
      for (const c of conns) c.socket.destroy();
      const done = latencies.slice(0, completed).sort();
      const pct = (p: number) => round(done[Math.min(done.length - 1, Math.floor(done.length * p))] ?? 0);
      resolve({
        offered: rate,
        sent,
        completed,
        // Over the time the answers took: an overloaded server finishes long after `seconds`.
        rps: Math.round(completed / Math.max(seconds, (lastDone - start) / 1000)),
        byStatus,
        errors,
        timeouts,
        latencyMs: {
          p50: pct(0.5),
          p95: pct(0.95),
          p99: pct(0.99),
          p999: pct(0.999),
          max: round(done.at(-1) ?? 0),
        },
      });
    };

    const open = (): Conn => {
      const c: Conn = {
        socket: connect(Number(url.port || 80), url.hostname),
        busy: false,
        due: 0,
        buf: Buffer.alloc(0),
        closing: false,
      };
      c.socket.setNoDelay(true);
      c.socket.on("connect", () => {
        idle.push(c);
        if (++connected === connections) start = performance.now();
        tick();
      });
      c.socket.on("data", (chunk) => {
        c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
        const status = readResponse(c);
        if (status === 0) return;
        lastDone = performance.now();
        latencies[completed++] = lastDone - c.due;
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        c.busy = false;
        // A server that said "Connection: close" (nginx after keepalive_requests) gets no
        // further request on this socket; its close opens a replacement.
        if (c.closing) c.socket.end();
        else idle.push(c);
        tick();
        finishIfDone();
      });
      const fail = () => {
        if (finished) return;
        if (!Number.isFinite(start)) {
          // Never got all its connections: nothing to measure.
          finished = true;
          clearInterval(watchdog);
          for (const other of conns) other.socket.destroy();
          return reject(new Error(`cannot connect to ${url.host}`));
        }
        if (c.busy) errors++;
        c.busy = false;
        const i = idle.indexOf(c);
        if (i >= 0) idle.splice(i, 1);
        const slot = conns.indexOf(c);
        if (slot >= 0 && sent < total) conns[slot] = open();
        finishIfDone();
      };
      c.socket.on("error", () => c.socket.destroy());
      c.socket.on("close", fail);
      return c;
    };

    const tick = () => {
      clearTimeout(timer);
      const now = performance.now();
      while (sent < total && dueAt(sent) <= now && idle.length > 0) {
        const c = idle.pop() as Conn;
        c.busy = true;
        c.due = dueAt(sent++);
        c.socket.write(request());
      }
      if (connected < connections) return;
      if (sent < total) timer = setTimeout(tick, Math.max(0, dueAt(sent) - now));
      finishIfDone();
    };

    const conns: Conn[] = Array.from({ length: connections }, open);
    const watchdog = setInterval(() => {
      const now = performance.now();
      for (const c of conns) {
        if (c.busy && now - c.due > TIMEOUT_MS) {
          timeouts++;
          c.busy = false;
          c.socket.destroy();
        }
      }
      // No connection free for TIMEOUT_MS (the server is gone): the rest cannot be sent in time.
      if (sent < total && now - dueAt(sent) > TIMEOUT_MS) {
        timeouts += total - sent;
        sent = total;
        finishIfDone();
      }
    }, 250);
  });
}

/** The status of the complete response at the head of `c.buf` (consumed), or 0 if incomplete. */
function readResponse(c: Conn): number {
  const end = c.buf.indexOf("\r\n\r\n");
  if (end < 0) return 0;
  const head = c.buf.toString("latin1", 0, end);
  const status = Number(head.slice(9, 12));
  if (/\r\nconnection: *close/i.test(head)) c.closing = true;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  let bodyEnd: number;
  if (length) bodyEnd = end + 4 + Number(length[1]);
  else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const last = c.buf.indexOf("\r\n0\r\n\r\n", end);
    if (last < 0) return 0;
    bodyEnd = last + 7;
  } else bodyEnd = end + 4;
  if (c.buf.length < bodyEnd) return 0;
  c.buf = c.buf.subarray(bodyEnd);
  return status;
}

const SLUG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** 7 base62 characters, the shape of the service's own random slugs. */
function randomSlug(): string {
  let slug = "";
  for (let i = 0; i < 7; i++) slug += SLUG_ALPHABET[Math.floor(Math.random() * 62)];
  return slug;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [url, rate, seconds, connections] = process.argv.slice(2);
  if (!url || !rate || !seconds) {
    console.error("usage: tsx bench/paced-load.ts <url> <rate> <seconds> [connections]");
    process.exit(2);
  }
  const result = await runPaced(new URL(url), Number(rate), Number(seconds), Number(connections ?? 64));
  console.log(JSON.stringify(result));
}
