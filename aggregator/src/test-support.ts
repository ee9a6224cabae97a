/**
 * For tests: a batch of queue messages (ids `m0`, `m1`, …) that records what the consumer
 * decided for each, as a Cloudflare Queue's `ack()`/`retry()` would take it.
 */
export function recordingBatch(bodies: unknown[], attempts = 1) {
  const acked = new Set<string>();
  const retried = new Set<string>();
  const decisions = new Map<string, { acked: boolean; retryDelay?: number }>();
  const messages = bodies.map((body, i) => {
    const id = `m${i}`;
    return {
      id,
      body,
      attempts,
      timestamp: new Date(),
      ack: () => {
        acked.add(id);
        decisions.set(id, { acked: true });
      },
      retry: (opts?: { delaySeconds?: number }) => {
        retried.add(id);
        decisions.set(id, { acked: false, retryDelay: opts?.delaySeconds });
      },
    };
  });
  return { messages, acked, retried, decisions };
}
