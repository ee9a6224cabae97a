import pg from "pg";
import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/databases";
import { clickEvent } from "../../test/fixtures";
import { reduceBatch } from "./reduce";
import { writeClicks } from "./writer";

/**
 * The ClickWriter keeps its Postgres connections across batches, each with the write statement prepared: a
 * migration run meanwhile must not fail every later batch on them.
 */
describe("the prepared write statement across a migration", () => {
  it("keeps writing on a connection that prepared it before a migration changed click_events", async () => {
    const url = await createTestDatabase();
    const [kept, migrator] = [
      new pg.Client({ connectionString: url }),
      new pg.Client({ connectionString: url }),
    ];
    await Promise.all([kept.connect(), migrator.connect()]);
    try {
      const rows = () =>
        reduceBatch([1, 2, 3].map((linkId) => ({ id: linkId, body: clickEvent({ linkId }) }))).rows;
      // Past five executions Postgres keeps one generic plan for the named statement.
      for (let i = 0; i < 6; i++) await writeClicks(kept, rows());
      await migrator.query("alter table click_events add column added text");
      await migrator.query("alter table click_events alter column link_id type numeric");
      const written = await writeClicks(kept, rows());
      expect(written.inserted).toBe(3);
      expect([...written.uncountedByLink.keys()].sort()).toEqual([1, 2, 3]);
    } finally {
      await Promise.all([kept.end(), migrator.end()]);
    }
  });
});
