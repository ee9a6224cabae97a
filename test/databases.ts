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
  return inject("postgresUrl").replace(/\/postgres(\?|$)/, `/${name}$1`);
}
