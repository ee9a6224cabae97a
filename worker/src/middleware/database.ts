import type { Database, DatabaseHandle } from "@shared/db/client";
import { openDatabaseFor } from "@shared/db/settings";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { runtimeFor } from "../runtime";

declare module "hono" {
  interface ContextVariableMap {
    /** Opens Postgres on first use; closed after the response in waitUntil. */
    db: () => Database;
  }
}

/**
 * Gives API routes a lazily opened Postgres handle. Workers cannot share a pool
 * between requests, so each request that needs the database opens and closes its own.
 *
 * @example api.use("*", database())
 */
export const database = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    let handle: DatabaseHandle | undefined;
    c.set("db", () => {
      handle ??= openDatabaseFor(runtimeFor(c.env).config.database, "standard");
      return handle.db;
    });
    try {
      await next();
    } finally {
      if (handle) c.executionCtx.waitUntil(handle.close().catch(() => {}));
    }
  });
