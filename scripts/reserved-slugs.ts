/**
 * Lists live links whose slug became a reserved word after they were made (`dashboard`, reserved with the
 * dashboard). Such a link keeps working: `GET /dashboard` (no slash) still redirects through it, and the
 * dashboard lives at `/dashboard/`. Its owner may want a new slug all the same; the self-hosted start-up
 * repair prints the same list.
 *   DATABASE_URL=… npm run links:reserved
 * Prints one JSON line per link: slug, ownerId, url.
 */
import { fileURLToPath } from "node:url";
import { RESERVED_SLUGS } from "@shared/links/slug";
import type pg from "pg";

export type ReservedSlugLink = { slug: string; ownerId: string; url: string };

/** Live links on reserved slugs (compared case-insensitively, as the reservation is). */
export async function linksOnReservedSlugs(client: pg.Client | pg.Pool): Promise<ReservedSlugLink[]> {
  const { rows } = await client.query<{ slug: string; owner_id: string; url: string }>(
    "select slug, owner_id, url from links where deleted_at is null and lower(slug) = any($1) order by slug",
    [[...RESERVED_SLUGS]],
  );
  return rows.map((r) => ({ slug: r.slug, ownerId: r.owner_id, url: r.url }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { default: pgModule } = await import("pg");
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("usage: DATABASE_URL=… npm run links:reserved");
    process.exit(2);
  }
  const client = new pgModule.Client({ connectionString: url });
  await client.connect();
  try {
    for (const link of await linksOnReservedSlugs(client)) console.log(JSON.stringify(link));
  } finally {
    await client.end();
  }
}
