import { type ChildProcess, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { closeSync, constants, openSync, unlinkSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";

/** Where an edge replica writes its click lines (its stdout), and how the runner reads them. */
export type ClickPipe = {
  /** The child's stdout, for `spawn`'s stdio. */
  stdout: number | "pipe";
  /** Once the child is spawned (or failed to): the end to read, and the runner's copy of the child's end closed. */
  reader(child: ChildProcess): Readable | null;
};

/**
 * A FIFO in `dir` (unlinked at once), not the unix socket pair that `stdio: "pipe"` makes. A socket
 * allocates a buffer per write, and a replica writes each click as a line of its own: per line the
 * replica's kernel work cost more, and its writes blocked sooner while the shipper paused reading,
 * which left the replica idle. A pipe packs the lines into pages (docs/benchmarks.md, "Issue 19, the
 * click's cost at the edge"). Where `mkfifo` is missing the socket pair is kept: slower, not wrong.
 */
export function openClickPipe(dir: string): ClickPipe {
  const socketPair: ClickPipe = { stdout: "pipe", reader: (child) => child.stdout };
  const path = join(dir, `clicks-${randomUUID()}.fifo`);
  try {
    execFileSync("mkfifo", ["-m", "600", path], { stdio: "ignore" });
  } catch {
    return socketPair;
  }
  let readEnd: number | undefined;
  try {
    // The read end first, non-blocking: opening a FIFO's write end blocks until it has a reader.
    readEnd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeEnd = openSync(path, constants.O_WRONLY);
    const read = readEnd;
    return {
      stdout: writeEnd,
      reader: () => {
        // Only the child may hold the write end, or the reader would never see its end.
        closeSync(writeEnd);
        return new Socket({ fd: read, readable: true, writable: false });
      },
    };
  } catch {
    // A filesystem that makes FIFOs it cannot open (some shared mounts): the socket pair still works.
    if (readEnd !== undefined) closeSync(readEnd);
    return socketPair;
  } finally {
    unlinkSync(path);
  }
}
