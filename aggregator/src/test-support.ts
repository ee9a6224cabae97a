/**
 * For tests: a batch of queue messages that records which were acknowledged and which
 * retried, as a Cloudflare Queue's `ack()`/`retry()` would.
 */
export function recordingBatch(bodies: unknown[], attempts = 1) {
  const acked = new Set<string>();
  const retried = new Set<string>();
  const messages = bodies.map((body, i) => ({
    id: `m${i}`,
    body,
    attempts,
    timestamp: new Date(),
    ack: () => acked.add(`m${i}`),
    retry: () => retried.add(`m${i}`),
  }));
  return { messages, acked, retried };
}
