import pg from "pg";
import { inject } from "vitest";
import { TEMPLATE_DB } from "./global-setup";

/** A fresh, migrated database on the test Postgres (a copy of the template); returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: inject("postgresUrl") });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = inject("postgresUrl").replace(/\/postgres(\?|$)/, `/${name}$1`);
  // Test files share one Redis, where click counters are keyed by link id: each database
  // numbers its links from a random start so that two files' links never share a counter.
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const start = 1 + Math.floor(Math.random() * 2 ** 40);
    await db.query(`alter sequence links_id_seq restart with ${start}`);
  } finally {
    await db.end();
  }
  return url;
}
