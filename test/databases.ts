import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { inject } from "vitest";
import { MIGRATIONS_DIR, migrateDatabase } from "../scripts/migrate";
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

/**
 * An empty database on the test Postgres with only the migrations before `tag` applied (the
 * schema a deployment has before that migration); returns its URL and how to apply the rest.
 */
export async function createDatabaseBefore(
  tag: string,
): Promise<{ url: string; migrateRest: () => Promise<void> }> {
  const name = `m_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: inject("postgresUrl") });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = inject("postgresUrl").replace(/\/postgres(\?|$)/, `/${name}$1`);
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, "meta/_journal.json"), "utf8")) as {
    entries: Array<{ tag: string }>;
  };
  const before = journal.entries.findIndex((e) => e.tag.endsWith(tag));
  if (before < 1) throw new Error(`no migration ${tag} after the first in the journal`);
  // A copy of the migrations folder whose journal stops before `tag`.
  const dir = mkdtempSync(join(tmpdir(), "migrations-"));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  writeFileSync(
    join(dir, "meta/_journal.json"),
    JSON.stringify({ ...journal, entries: journal.entries.slice(0, before) }),
  );
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(drizzle(client), { migrationsFolder: dir });
  } finally {
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  }
  return { url, migrateRest: () => migrateDatabase(url) };
}
