import { createRoute } from "@hono/zod-openapi";
import { links as linksTable } from "@shared/db/schema";
import { notFound } from "@shared/problem";
import { and, eq, isNull } from "drizzle-orm";
import { requireScope } from "../middleware/auth";
import { SlugParamSchema } from "../schemas/link";
import {
  LinkStatsSchema,
  ServiceStatsQuerySchema,
  ServiceStatsSchema,
  StatsQuerySchema,
} from "../schemas/stats";
import { isAdminToken, ownerToRead } from "../services/key-authority";
import { StatsService } from "../services/stats";
import { domainAccess, shortUrlBase } from "./links";
import { openApiApp } from "./openapi-app";
import { authErrors, problem, security } from "./openapi-docs";

const errors = { 400: problem("Invalid input"), ...authErrors };

/**
 * `GET /api/v1/links/{slug}/stats` and `GET /api/v1/stats`, read from the rollups.
 *
 * @example api.route("/", stats)
 */
export const stats = openApiApp();

stats.openapi(
  createRoute({
    method: "get",
    path: "/links/{slug}/stats",
    summary: "Clicks of one link: totals, time series and breakdowns",
    security,
    middleware: requireScope("stats:read"),
    request: { params: SlugParamSchema, query: StatsQuerySchema },
    responses: {
      200: { description: "Stats", content: { "application/json": { schema: LinkStatsSchema } } },
      ...errors,
      404: problem("No such link"),
    },
  }),
  async (c) => {
    const { slug } = c.req.valid("param");
    const query = c.req.valid("query");
    const db = c.var.db();
    const domain = await domainAccess(c).storedDomain(query.domain, "existing-links");
    const [link] = await db
      .select({ id: linksTable.id })
      .from(linksTable)
      .where(
        and(
          eq(linksTable.domain, domain),
          eq(linksTable.slug, slug),
          // The admin token reads any owner's link, as on the link routes.
          isAdminToken(c.var.principal) ? undefined : eq(linksTable.ownerId, c.var.principal.ownerId),
          isNull(linksTable.deletedAt),
        ),
      )
      .limit(1);
    if (!link) throw notFound(`no link with slug "${slug}"`);
    return c.json(await new StatsService(db).forLink(link.id, slug, query), 200);
  },
);

stats.openapi(
  createRoute({
    method: "get",
    path: "/stats",
    summary: "Service-wide summary of the caller's links, on every domain or on one",
    security,
    middleware: requireScope("stats:read"),
    request: { query: ServiceStatsQuerySchema },
    responses: {
      200: { description: "Summary", content: { "application/json": { schema: ServiceStatsSchema } } },
      ...errors,
    },
  }),
  async (c) => {
    const { domain: name, owner } = c.req.valid("query");
    const principal = c.var.principal;
    const reads = ownerToRead({ ownerId: principal.ownerId, seesEveryOwner: isAdminToken(principal) }, owner);
    const domain =
      name === undefined ? undefined : await domainAccess(c).storedDomain(name, "existing-links");
    const summary = await new StatsService(c.var.db()).forOwner(reads, domain);
    const { defaultName } = shortUrlBase(c);
    const topLinks = summary.topLinks.map((l) => ({ ...l, domain: l.domain || defaultName }));
    return c.json({ ...summary, topLinks }, 200);
  },
);
