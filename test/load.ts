import autocannon from "autocannon";

export type LoadResult = { sent: number; byStatus: Record<string, number>; errors: number; timeouts: number };

/**
 * A bounded load: `rate` requests/s over `connections` for `seconds`, against one URL.
 * Stops by itself; counts every answer by status and every transport error.
 */
export function runLoad(opts: {
  url: string;
  rate: number;
  seconds: number;
  connections?: number;
  method?: "GET" | "HEAD";
}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const byStatus: Record<string, number> = {};
    const instance = autocannon(
      {
        url: opts.url,
        method: opts.method ?? "GET",
        connections: opts.connections ?? 16,
        overallRate: opts.rate,
        duration: opts.seconds,
        timeout: 10,
        headers: {
          "user-agent":
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        },
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({ sent: result.requests.sent, byStatus, errors: result.errors, timeouts: result.timeouts });
      },
    );
    instance.on("response", (_client, statusCode) => {
      byStatus[statusCode] = (byStatus[statusCode] ?? 0) + 1;
    });
  });
}
