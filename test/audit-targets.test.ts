import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { auditTargets } from "../scripts/audit-targets";
import { createTestDatabase } from "./databases";

/** Links stored before the target URL rules, written straight into Postgres as they were then. */
const stored: Array<[slug: string, url: string, deleted?: boolean]> = [
  ["fine", "https://example.com/"],
  ["idn", "https://bücher.example/ä"],
  ["no-slashes", "http:fine"],
  ["loopback", "http://127.1:8080/admin"],
  ["own-host", "https://SHO.TEST/fine"],
  ["deleted-loopback", "http://localhost/", true],
];

let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  for (const [slug, url, deleted] of stored) {
    await db.query(
      `insert into links (slug, url, owner_id, deleted_at) values ($1, $2, 'owner-a', ${deleted ? "now()" : "null"})`,
      [slug, url],
    );
  }
  await db.end();
});

describe("npm run links:audit-targets", () => {
  it("lists every live link whose target breaks the rules or is not stored normalized", async () => {
    const findings = await auditTargets(databaseUrl, { ownHosts: ["sho.test"], allowPrivate: false });
    expect(findings.map((f) => [f.slug, f.problem])).toEqual([
      ["idn", "not-normalized"],
      ["no-slashes", "slashes-required"],
      ["loopback", "private-host"],
      ["own-host", "self-redirect"],
    ]);
    expect(findings[0]).toEqual({
      slug: "idn",
      ownerId: "owner-a",
      url: "https://bücher.example/ä",
      problem: "not-normalized",
    });
  });

  it("applies the deployment's private-target setting", async () => {
    const findings = await auditTargets(databaseUrl, { ownHosts: ["sho.test"], allowPrivate: true });
    expect(findings.find((f) => f.slug === "loopback")).toMatchObject({ problem: "not-normalized" });
  });
});
