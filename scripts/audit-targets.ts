/**
 * Lists live links whose stored target breaks today's target URL rules, or is not stored in
 * normalized form: links made before the rules (docs/security.md, "Target URL rules"). The
 * redirect serves those normalized but does not re-check their host. Read-only: fix a link with
 * PATCH or DELETE through the API, which also rewrites its edge record.
 *   DATABASE_URL=… npm run links:audit-targets -- --host sho.rt [--host other.host] [--allow-private]
 * Prints one JSON line per link: slug, ownerId, url, problem.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseTargetUrl, type TargetUrlPolicy, type TargetUrlProblem } from "@shared/links/target-url";
import pg from "pg";

export type TargetFinding = {
  slug: string;
  ownerId: string;
  url: string;
  /** The rule the target breaks, or "not-normalized" when only its stored spelling is old. */
  problem: TargetUrlProblem | "not-normalized";
};

const PAGE = 1000;

/** Every live link whose target would not be stored as it is today, oldest first. */
export async function auditTargets(databaseUrl: string, policy: TargetUrlPolicy): Promise<TargetFinding[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const findings: TargetFinding[] = [];
  try {
    // Pages by id, so a large table is never read at once.
    for (let after = 0; ; ) {
      const { rows } = await client.query<{ id: string; slug: string; owner_id: string; url: string }>(
        "select id, slug, owner_id, url from links where deleted_at is null and id > $1 order by id limit $2",
        [after, PAGE],
      );
      for (const row of rows) {
        const { href, problem } = parseTargetUrl(row.url, policy);
        const found = problem ?? (href === row.url ? null : "not-normalized");
        if (found) findings.push({ slug: row.slug, ownerId: row.owner_id, url: row.url, problem: found });
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < PAGE) return findings;
      after = Number(last.id);
    }
  } finally {
    await client.end();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { host: { type: "string", multiple: true }, "allow-private": { type: "boolean" } },
  });
  const url = process.env.DATABASE_URL;
  if (!url || !values.host?.length) {
    console.error("usage: DATABASE_URL=… npm run links:audit-targets -- --host SHORT_HOST [--allow-private]");
    process.exit(2);
  }
  // Hosts as the URL parser writes them (lowercase, punycode), as the rules compare them.
  const ownHosts = values.host.map((host) => new URL(`http://${host}`).hostname);
  const policy = { ownHosts, allowPrivate: values["allow-private"] === true };
  const findings = await auditTargets(url, policy);
  for (const finding of findings) console.log(JSON.stringify(finding));
  console.error(`${findings.length} link(s) to review`);
}
