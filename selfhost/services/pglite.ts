import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { freePort } from "./free-port";

/**
 * The embedded Postgres of `npm run dev`: PGlite persisted under `dataDir` (in memory
 * without it), served on 127.0.0.1 over the Postgres wire protocol. Queries from several
 * connections are queued onto PGlite's single session, a transaction holding the queue
 * until it ends: right for development, not for load. Reached through the Neon driver,
 * it needs `selfhost/ws-proxy.ts` to close the socket on Terminate (see there).
 *
 * @example const db = await startPglite({ dataDir: ".dev/pglite" }); … await db.close();
 */
export async function startPglite(opts: { dataDir?: string; port?: number } = {}): Promise<{
  url: string;
  port: number;
  close(): Promise<void>;
}> {
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir);
  const port = opts.port ?? (await freePort());
  const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 32 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    port,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
