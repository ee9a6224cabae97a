import { Agent, request } from "node:http";

export type LoadResult = { sent: number; byStatus: Record<string, number>; errors: number; timeouts: number };

/**
 * A bounded load at a fixed rate: `rate` requests/s from `connections` keep-alive
 * connections for `seconds`, then stops by itself. Unlike a generator that aborts
 * what is in flight when time is up, it waits for every answer, so the count of
 * answers is exact — the click-count tests compare it with Postgres to the unit.
 */
export async function runLoad(opts: {
  url: string;
  rate: number;
  seconds: number;
  connections?: number;
}): Promise<LoadResult> {
  const url = new URL(opts.url);
  const connections = opts.connections ?? 16;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const result: LoadResult = { sent: 0, byStatus: {}, errors: 0, timeouts: 0 };
  const start = performance.now();
  const end = start + opts.seconds * 1000;
  let next = 0;

  const once = () =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          agent,
          headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) load-test" },
        },
        (res) => {
          result.byStatus[res.statusCode ?? 0] = (result.byStatus[res.statusCode ?? 0] ?? 0) + 1;
          res.resume();
          res.on("end", resolve);
          res.on("error", () => resolve());
        },
      );
      req.setTimeout(10_000, () => {
        result.timeouts++;
        req.destroy();
      });
      req.on("error", () => {
        result.errors++;
        resolve();
      });
      req.end();
    });

  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (;;) {
        const at = start + (next++ * 1000) / opts.rate;
        if (at >= end) return;
        const wait = at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        result.sent++;
        await once();
      }
    }),
  );
  agent.destroy();
  return result;
}
