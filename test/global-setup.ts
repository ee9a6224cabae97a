import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { buildWorkers } from "../scripts/build-workers";
import { migrateDatabase } from "../scripts/migrate";
import { ensureDebianPackages, onPath } from "../selfhost/services/ensure-packages";
import { type PostgresServer, startPostgres } from "../selfhost/services/postgres";
import { type RedisServer, startRedis } from "../selfhost/services/redis";

/** The migrated database every test file copies its own database from. */
export const TEMPLATE_DB = "edge_template";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    postgresPort: number;
    redisUrl: string;
    workerBundle: string;
    aggregatorBundle: string;
    /** The dashboard's built files, served to the edge as its ASSETS binding. */
    assetsDir: string;
  }
}

let postgres: PostgresServer | undefined;
let redis: RedisServer | undefined;

/**
 * Starts one real Postgres and one real Redis on free ports and temporary directories,
 * applies the migrations to a template database and bundles both workers; each test
 * file then gets its own database, gateway, proxy and workerd (test/stack.ts).
 */
export default async function setup(project: TestProject) {
  // A fresh machine: install the servers the tests start (as root with apt-get; otherwise say what to install).
  ensureDebianPackages([
    { pkg: "postgresql", present: () => existsSync("/usr/lib/postgresql") || onPath("pg_ctl") },
    { pkg: "redis-server", present: () => onPath("redis-server") },
    { pkg: "nginx", present: () => onPath("nginx") || existsSync("/usr/sbin/nginx") },
    { pkg: "prometheus", present: () => onPath("promtool") },
  ]);
  const bundles = buildWorkers(`${process.cwd()}/dist/test`);
  // Throwaway servers: Postgres without fsync; both with a random password per run (in the URLs).
  [postgres, redis] = await Promise.all([startPostgres({ durability: "off-for-tests" }), startRedis()]);
  const templateUrl = await postgres.createDatabase(TEMPLATE_DB);
  await migrateDatabase(templateUrl);
  project.provide("postgresUrl", postgres.url);
  project.provide("postgresPort", postgres.port);
  project.provide("redisUrl", redis.url);
  project.provide("workerBundle", bundles.worker);
  project.provide("aggregatorBundle", bundles.aggregator);
  project.provide("assetsDir", bundles.assets);

  return async () => {
    await Promise.allSettled([postgres?.dispose(), redis?.dispose()]);
  };
}
