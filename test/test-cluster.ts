import pg from "pg";
import { type ClusterOptions, startCluster } from "../selfhost/cluster";

/**
 * A self-hosted cluster for a test file (durability off: nothing here outlives the file) and a
 * pool on its Postgres. The pool ignores errors of idle connections: tests that kill or stop
 * Postgres end them under it.
 */
export async function startTestCluster(options: Omit<ClusterOptions, "durability"> = {}) {
  const cluster = await startCluster({ durability: "off-for-tests", ...options });
  const db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 });
  db.on("error", () => {});
  return {
    cluster,
    db,
    close: async () => {
      try {
        await db.end();
      } finally {
        await cluster.close();
      }
    },
  };
}
