import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { openClickPipe } from "./click-pipe";

const dir = mkdtempSync(join(tmpdir(), "click-pipe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `input` closed within `ms`. */
const closedWithin = (input: Readable | null, ms: number) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    input?.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

describe("openClickPipe", () => {
  it("gives the child a FIFO for stdout (not a socket), leaves nothing in the directory, and ends when the child exits", async () => {
    const pipe = openClickPipe(dir);
    // The child reports what its own stdout is, then writes lines in two writes and exits.
    const child = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("node:fs"); const st = fs.fstatSync(1); fs.writeSync(1, "fifo=" + st.isFIFO() + " socket=" + st.isSocket() + "\\n"); fs.writeSync(1, "a line\\n");`,
      ],
      { stdio: ["ignore", pipe.stdout, "inherit"] },
    );
    const input = pipe.reader(child);
    expect(input).not.toBeNull();
    expect(readdirSync(dir)).toEqual([]);
    let text = "";
    input?.setEncoding("utf8");
    input?.on("data", (chunk: string) => {
      text += chunk;
    });
    // The child wrote and exited: its end closing must end the input, not leave the reader waiting.
    expect(await closedWithin(input, 3000)).toBe(true);
    const [kind, line] = text.split("\n");
    expect(kind).toBe("fifo=true socket=false");
    expect(line).toBe("a line");
  });

  it("keeps no copy of the write end in the runner once the child is spawned", async () => {
    const pipe = openClickPipe(dir);
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 200)"], {
      stdio: ["ignore", pipe.stdout, "inherit"],
    });
    const input = pipe.reader(child);
    const fifo = readlinkSync(`/proc/${child.pid}/fd/1`);
    const ours = readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === fifo;
      } catch {
        return false;
      }
    });
    // Only the read end: a write end left open here would keep the reader from ever seeing the child's exit.
    expect(ours).toHaveLength(1);
    input?.resume();
    expect(await closedWithin(input, 3000)).toBe(true);
  });

  it("falls back to spawn's socket pair where no FIFO can be made", () => {
    const pipe = openClickPipe(join(dir, "no-such-directory"));
    expect(pipe.stdout).toBe("pipe");
  });
});
