/**
 * The runner's control port (selfhost/run.ts): `POST /rolling-restart` with the internal token rebuilds
 * the bundles and replaces the replicas (`npm run selfhost:restart`). It runs inside the runner's
 * process, so nothing a restart throws may escape: a failure is a 500 with the error, and a second
 * request while one restart runs is refused with 409 rather than replacing replicas twice at once.
 *
 * @example
 *   const control = await startControl({ port: 8099, token, restart: (log) => rollingRestart(cluster, { …, log }) });
 */
import { type ServiceHandle, startHttpService } from "./http-service";

export type RestartResult = { replaced: number; rolledBack: boolean };

export async function startControl(opts: {
  port?: number;
  token: string;
  /** One rolling restart; `log` collects its lines for the answer. */
  restart: (log: (line: string) => void) => Promise<RestartResult>;
}): Promise<ServiceHandle> {
  let running = false;
  return startHttpService({
    port: opts.port,
    // Loopback is not enough: any local user or process could otherwise replace the replicas.
    auth: { token: opts.token, service: "control port" },
    async handle(req) {
      if (req.method !== "POST" || req.url !== "/rolling-restart") return [404];
      if (running) return [409, { error: "a rolling restart is already running" }];
      running = true;
      const lines: string[] = [];
      try {
        const result = await opts.restart((line) => {
          lines.push(line);
          console.log(line);
        });
        return [result.rolledBack ? 500 : 200, { ...result, log: lines }];
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        console.error(`rolling restart failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
        return [500, { error: message, log: lines }];
      } finally {
        running = false;
      }
    },
  });
}
