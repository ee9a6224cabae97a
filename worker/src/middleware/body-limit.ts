import { ProblemError } from "@shared/problem";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

/**
 * Refuses request bodies over `maxBytes` with a 413 problem. A refused body is read to
 * its end (when it is at most `drainBytes`) before the answer: a server that answers while
 * the client is still sending closes a socket with unread data, the kernel turns that
 * close into a reset, and the client sees ECONNRESET instead of the 413 (a third of the
 * time for 1 MiB). Bodies larger than `drainBytes` are not worth reading and are refused
 * at once; their clients may see the reset.
 *
 * @example api.use("*", bodyLimit(512 * 1024, 4 * 1024 * 1024))
 */
export const bodyLimit = (maxBytes: number, drainBytes: number) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    // Made only when refusing: an error captures a stack, which bodies under the limit should not pay for.
    const tooLarge = () =>
      new ProblemError(413, "payload-too-large", "Payload too large", {
        detail: `the body exceeds ${maxBytes} bytes`,
      });
    const declared = c.req.header("content-length");
    if (declared !== undefined && !c.req.header("transfer-encoding")) {
      const length = Number(declared);
      if (length <= maxBytes) return next();
      if (length <= drainBytes) await discard(body.getReader());
      throw tooLarge();
    }
    // No declared length: read up to the limit and hand what was read on to the handlers.
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await discard(reader, drainBytes - size);
        throw tooLarge();
      }
      chunks.push(value);
    }
    c.req.raw = new Request(c.req.raw, { body: concat(chunks, size) });
    return next();
  });

/** Reads and drops the rest of a body, up to `budget` bytes; cancels it beyond that. */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, budget = Number.POSITIVE_INFINITY) {
  let left = budget;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    left -= value.byteLength;
    if (left < 0) {
      await reader.cancel();
      return;
    }
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
