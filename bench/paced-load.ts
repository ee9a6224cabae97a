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
  return new PacedLoad(url, rate, seconds, connections).run();
}

/**
 * One run: `connections` sockets, request i sent on an idle one at `dueAt(i)`, each answer
 * timed from when its request was due. Settles its promise once every request is answered,
 * failed or timed out.
 */
class PacedLoad {
  private readonly total: number;
  private readonly latencies: Float64Array;
  private readonly byStatus: Record<string, number> = {};
  private readonly request: () => string | Buffer;
  private sent = 0;
  private completed = 0;
  private errors = 0;
  private timeouts = 0;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  // The schedule starts once every connection is open: connecting is not what is measured.
  private start = Number.POSITIVE_INFINITY;
  private connected = 0;
  private lastDone = 0;
  private readonly idle: Conn[] = [];
  private conns: Conn[] = [];
  private finished = false;
  /** The promise `run()` returned; set before any socket is opened. */
  private settle!: { resolve(result: PacedResult): void; reject(error: Error): void };

  constructor(
    private readonly url: URL,
    private readonly rate: number,
    private readonly seconds: number,
    private readonly connections: number,
  ) {
    const text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: Mozilla/5.0 bench\r\n\r\n`;
    const fixed = Buffer.from(text);
    // A `*` in the path becomes a new random slug on each request: a flood of never-seen slugs.
    this.request = url.pathname.includes("*") ? () => text.replace("*", randomSlug()) : () => fixed;
    this.total = Math.round(rate * seconds);
    this.latencies = new Float64Array(this.total);
  }

  run(): Promise<PacedResult> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.conns = Array.from({ length: this.connections }, () => this.open());
      this.watchdog = setInterval(() => this.expire(), 250);
    });
  }

  private dueAt(i: number): number {
    return this.start + (i * 1000) / this.rate;
  }

  private open(): Conn {
    const c: Conn = {
      socket: connect(Number(this.url.port || 80), this.url.hostname),
      busy: false,
      due: 0,
      buf: Buffer.alloc(0),
      closing: false,
    };
    c.socket.setNoDelay(true);
    c.socket.on("connect", () => {
      this.idle.push(c);
      if (++this.connected === this.connections) this.start = performance.now();
      this.tick();
    });
    c.socket.on("data", (chunk) => this.onData(c, chunk));
    c.socket.on("error", () => c.socket.destroy());
    c.socket.on("close", () => this.onClose(c));
    return c;
  }

  private onData(c: Conn, chunk: Buffer): void {
    c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
    const status = readResponse(c);
    if (status === 0) return;
    this.lastDone = performance.now();
    this.latencies[this.completed++] = this.lastDone - c.due;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    c.busy = false;
    // A server that said "Connection: close" (nginx after keepalive_requests) gets no
    // further request on this socket; its close opens a replacement.
    if (c.closing) c.socket.end();
    else this.idle.push(c);
    this.tick();
    this.finishIfDone();
  }

  private onClose(c: Conn): void {
    if (this.finished) return;
    if (!Number.isFinite(this.start)) {
      // Never got all its connections: nothing to measure.
      this.finished = true;
      clearInterval(this.watchdog);
      for (const other of this.conns) other.socket.destroy();
      this.settle.reject(new Error(`cannot connect to ${this.url.host}`));
      return;
    }
    if (c.busy) this.errors++;
    c.busy = false;
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const slot = this.conns.indexOf(c);
    if (slot >= 0 && this.sent < this.total) this.conns[slot] = this.open();
    this.finishIfDone();
  }

  /** Sends every request that is due on idle connections, and wakes up when the next one is. */
  private tick = (): void => {
    clearTimeout(this.timer);
    const now = performance.now();
    while (this.sent < this.total && this.dueAt(this.sent) <= now && this.idle.length > 0) {
      const c = this.idle.pop() as Conn;
      c.busy = true;
      c.due = this.dueAt(this.sent++);
      c.socket.write(this.request());
    }
    if (this.connected < this.connections) return;
    if (this.sent < this.total) this.timer = setTimeout(this.tick, Math.max(0, this.dueAt(this.sent) - now));
    this.finishIfDone();
  };

  /** Counts requests unanswered for TIMEOUT_MS as timeouts. */
  private expire(): void {
    const now = performance.now();
    for (const c of this.conns) {
      if (c.busy && now - c.due > TIMEOUT_MS) {
        this.timeouts++;
        c.busy = false;
        c.socket.destroy();
      }
    }
    // No connection free for TIMEOUT_MS (the server is gone): the rest cannot be sent in time.
    if (this.sent < this.total && now - this.dueAt(this.sent) > TIMEOUT_MS) {
      this.timeouts += this.total - this.sent;
      this.sent = this.total;
      this.finishIfDone();
    }
  }

  private finishIfDone(): void {
    if (this.finished) return;
    if (this.sent < this.total || this.completed + this.errors + this.timeouts < this.sent) return;
    this.finished = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    for (const c of this.conns) c.socket.destroy();
    this.settle.resolve(this.result());
  }

  private result(): PacedResult {
    const done = this.latencies.slice(0, this.completed).sort();
    const pct = (p: number) => round(done[Math.min(done.length - 1, Math.floor(done.length * p))] ?? 0);
    return {
      offered: this.rate,
      sent: this.sent,
      completed: this.completed,
      // Over the time the answers took: an overloaded server finishes long after `seconds`.
      rps: Math.round(this.completed / Math.max(this.seconds, (this.lastDone - this.start) / 1000)),
      byStatus: this.byStatus,
      errors: this.errors,
      timeouts: this.timeouts,
      latencyMs: {
        p50: pct(0.5),
        p95: pct(0.95),
        p99: pct(0.99),
        p999: pct(0.999),
        max: round(done.at(-1) ?? 0),
      },
    };
  }
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
