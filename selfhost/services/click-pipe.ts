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
  reader(child: Pick<ChildProcess, "stdout">): Readable | null;
  /** When spawn threw: both ends closed. */
  close(): void;
};

/**
 * A FIFO in `dir` (unlinked at once), not the unix socket pair that `stdio: "pipe"` makes. A socket
 * allocates a buffer per write, and a replica writes each click as a line of its own: per line the
 * replica's kernel work cost more, and its writes blocked sooner while the shipper paused reading,
 * which left the replica idle. A pipe packs the lines into pages (docs/benchmarks.md, "Issue 19, the
 * click's cost at the edge"). Where `mkfifo` is missing the socket pair is kept: slower, not wrong.
 */
export function openClickPipe(dir: string): ClickPipe {
  const socketPair: ClickPipe = { stdout: "pipe", reader: (child) => child.stdout, close: () => {} };
  const path = join(dir, `clicks-${randomUUID()}.fifo`);
  try {
    execFileSync("mkfifo", ["-m", "600", path], { stdio: "ignore" });
  } catch {
    return socketPair;
  }
  try {
    return openEnds(path) ?? socketPair;
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing can open it by name either way.
    }
  }
}

/** Both ends of the FIFO at `path`, or null (both closed) where it cannot be opened (some shared mounts). */
function openEnds(path: string): ClickPipe | null {
  // The read end first, non-blocking: opening a FIFO's write end blocks until it has a reader.
  let readEnd: number;
  try {
    readEnd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  let writeEnd: number;
  try {
    writeEnd = openSync(path, constants.O_WRONLY);
  } catch {
    closeSync(readEnd);
    return null;
  }
  return {
    stdout: writeEnd,
    reader: () => {
      // Only the child may hold the write end, or the reader would never see its end.
      closeSync(writeEnd);
      return new Socket({ fd: readEnd, readable: true, writable: false });
    },
    close: () => {
      closeSync(writeEnd);
      closeSync(readEnd);
    },
  };
}
