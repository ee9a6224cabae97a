import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP server that accepts connections and reads requests but never answers: a
 * stalled dependency (a Redis REST gateway stuck behind a dead backend, say), as
 * opposed to one that refuses connections and fails fast.
 */
export async function startHangingServer(): Promise<{
  url: string;
  requests(): number;
  close(): Promise<void>;
}> {
  let seen = 0;
  const server = createServer(() => {
    seen++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
