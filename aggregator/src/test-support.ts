/**
 * For tests: a batch of queue messages (ids `m0`, `m1`, …) that records what the consumer
 * decided for each, as a Cloudflare Queue's `ack()`/`retry()` would take it.
 */
export function recordingBatch(bodies: unknown[], attempts = 1) {
  const decisions = new Map<string, { acked: boolean; retryDelay?: number }>();
  const messages = bodies.map((body, i) => {
    const id = `m${i}`;
    return {
      id,
      body,
      attempts,
      timestamp: new Date(),
      ack: () => void decisions.set(id, { acked: true }),
      retry: (opts?: { delaySeconds?: number }) =>
        void decisions.set(id, { acked: false, retryDelay: opts?.delaySeconds }),
    };
  });
  /** The ids whose last decision was an ack (`true`) or a retry (`false`). */
  const decided = (acked: boolean) =>
    new Set([...decisions].filter(([, d]) => d.acked === acked).map(([id]) => id));
  return {
    messages,
    decisions,
    get acked() {
      return decided(true);
    },
    get retried() {
      return decided(false);
    },
  };
}
