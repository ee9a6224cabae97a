import { describe, expect, it } from "vitest";
import { CONNECT_TIMEOUT_MS, type DatabaseUse, openDatabaseFor, readDatabaseSettings } from "./settings";

describe("openDatabaseFor", () => {
  const settings = readDatabaseSettings({ DATABASE_URL: "postgres://nobody@127.0.0.1:9/none" });
  for (const use of Object.keys(CONNECT_TIMEOUT_MS) as DatabaseUse[]) {
    it(`waits ${CONNECT_TIMEOUT_MS[use]} ms for a connection for ${use}`, async () => {
      // A pool connects on its first query, so none is made here.
      const handle = openDatabaseFor(settings, use);
      expect(handle.pool.options.connectionTimeoutMillis).toBe(CONNECT_TIMEOUT_MS[use]);
      expect(handle.pool.options.connectionString).toBe(settings.url);
      await handle.close();
    });
  }
});
