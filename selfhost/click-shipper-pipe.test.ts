import { spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { CLICK_LINE_PREFIX } from "../shared/click-line";
import { shipClicks } from "./click-shipper";

/** A replica's stdout as the runner reads it: a child process writing one click line per write. */
describe("shipClicks on a child's pipe", () => {
  it("ships every whole line in order, read in bursts, and drops the last one cut short", async () => {
    // Lines written one write each, some with a pause between them, then half a line and exit (a kill mid-write).
    const writer = `
      const fs = require("node:fs");
      const nap = new Int32Array(new SharedArrayBuffer(4));
      for (let n = 0; n < 400; n++) {
        fs.writeSync(1, ${JSON.stringify(CLICK_LINE_PREFIX)} + JSON.stringify({ n, ua: "Ünïcode ✓" }) + "\\n");
        if (n % 40 === 0) { fs.writeSync(1, "workerd: a log line\\n"); Atomics.wait(nap, 0, 0, 2); }
      }
      fs.writeSync(1, ${JSON.stringify(`${CLICK_LINE_PREFIX}{"n":400,"ua":"Ün`)});`;
    const child = spawn(process.execPath, ["-e", writer], { stdio: ["ignore", "pipe", "inherit"] });
    const shipped: unknown[] = [];
    const logged: string[] = [];
    const passthrough = new PassThrough();
    passthrough.on("data", (chunk: Buffer) => logged.push(...chunk.toString().split("\n").filter(Boolean)));
    const shipper = shipClicks({
      input: child.stdout,
      passthrough,
      deliver: async (bodies) => void shipped.push(...bodies.map((b) => JSON.parse(b))),
      log: () => {},
    });
    expect(await shipper.drained(20_000)).toBe(true);
    expect(shipped).toEqual(Array.from({ length: 400 }, (_, n) => ({ n, ua: "Ünïcode ✓" })));
    expect(logged).toEqual(Array(10).fill("workerd: a log line"));
    expect([shipper.shipped, shipper.dropped, shipper.pending]).toEqual([400, 1, 0]);
  });

  it("joins a click line written in pieces across reads and pauses, and ships a last line that lacks only its newline", async () => {
    // The writer waits longer than the read pause between pieces, so most land in a read of their own (timing
    // decides; the assertions hold either way, so the test also covers pieces read together).
    const ua = '😀 \\ "q"';
    const writer = `
      const fs = require("node:fs");
      const nap = new Int32Array(new SharedArrayBuffer(4));
      const line = (n) => ${JSON.stringify(CLICK_LINE_PREFIX)} + JSON.stringify({ n, ua: ${JSON.stringify(ua)} });
      for (let n = 0; n < 5; n++) {
        const bytes = Buffer.from(line(n) + "\\n");
        // The cut at byte 22 falls inside the emoji's four bytes (20–23).
        for (const piece of [bytes.subarray(0, 3), bytes.subarray(3, 22), bytes.subarray(22)]) {
          fs.writeSync(1, piece);
          Atomics.wait(nap, 0, 0, 30);
        }
      }
      fs.writeSync(1, line(5));`;
    const child = spawn(process.execPath, ["-e", writer], { stdio: ["ignore", "pipe", "inherit"] });
    const shipped: unknown[] = [];
    const shipper = shipClicks({
      input: child.stdout,
      passthrough: new PassThrough(),
      deliver: async (bodies) => void shipped.push(...bodies.map((b) => JSON.parse(b))),
      readPauseMs: 10,
      log: () => {},
    });
    expect(await shipper.drained(20_000)).toBe(true);
    expect(shipped).toEqual(Array.from({ length: 6 }, (_, n) => ({ n, ua })));
    expect([shipper.shipped, shipper.dropped, shipper.pending]).toEqual([6, 0, 0]);
  });

  it("stops reading the pipe for readPauseMs after each read, then reads again", async () => {
    vi.useFakeTimers();
    try {
      const input = new PassThrough();
      const handle = { readStop: vi.fn(() => 0), readStart: vi.fn(() => 0) };
      Object.assign(input, { _handle: handle });
      const shipped: string[] = [];
      shipClicks({
        input,
        passthrough: new PassThrough(),
        deliver: async (bodies) => void shipped.push(...bodies),
        readPauseMs: 10,
        lingerMs: 0,
      });
      const settle = async () => {
        for (let i = 0; i < 5; i++) await new Promise((r) => process.nextTick(r));
      };
      input.write(`${CLICK_LINE_PREFIX}{"n":0}\n`);
      await settle();
      expect([handle.readStop.mock.calls.length, handle.readStart.mock.calls.length]).toEqual([1, 0]);
      // What was read already is not held back by the pause.
      input.write(`${CLICK_LINE_PREFIX}{"n":1}\n`);
      await settle();
      expect(shipped).toEqual(['{"n":0}', '{"n":1}']);
      expect([handle.readStop.mock.calls.length, handle.readStart.mock.calls.length]).toEqual([1, 0]);
      vi.advanceTimersByTime(10);
      expect(handle.readStart).toHaveBeenCalledTimes(1);
      input.write(`${CLICK_LINE_PREFIX}{"n":2}\n`);
      await settle();
      expect(handle.readStop).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
