import { createRoute, type z } from "@hono/zod-openapi";
import { ProblemError } from "@shared/problem";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { requireScope } from "../middleware/auth";
import { fieldProblems } from "../middleware/errors";
import { runtimeFor } from "../runtime";
import { DomainQuerySchema } from "../schemas/domain";
import {
  BulkCreateSchema,
  BulkResultSchema,
  CreateLinkSchema,
  ExternalIdParamSchema,
  LinkListSchema,
  LinkSchema,
  ListQuerySchema,
  SlugParamSchema,
  UpdateLinkSchema,
  UpsertLinkSchema,
} from "../schemas/link";
import { DomainAccess } from "../services/domain-access";
import { isAdminToken } from "../services/key-authority";
import { LinkService, shortUrlBaseFor, toApiLink } from "../services/links";
import { openApiApp } from "./openapi-app";
import { authErrors, json, jsonBody, problem, security } from "./openapi-docs";

const errors = { 400: problem("Invalid input"), ...authErrors };

/**
 * The caller's link service, with this deployment's target rules, and the domain access that
 * resolves `domain` fields for the caller (also used by the QR route).
 */
export function services(c: Context<AppEnv>): { links: LinkService; domains: DomainAccess } {
  const url = new URL(c.req.url);
  const rt = runtimeFor(c.env);
  const principal = c.var.principal;
  const domains = domainAccess(c);
  // Targets on this service loop: the request's host, PUBLIC_BASE_URL's and every short domain's.
  const targetPolicy = async () => ({
    ownHosts: [
      url.hostname,
      ...(rt.config.publicHost ? [rt.config.publicHost] : []),
      ...(await domains.shortHostnames()),
    ],
    allowPrivate: rt.config.allowPrivateTargets,
  });
  const linkService = new LinkService(
    c.var.db(),
    rt.links,
    principal.ownerId,
    targetPolicy,
    isAdminToken(principal),
  );
  return { links: linkService, domains };
}

/** How this request's answers write short URLs (services/links.ts, ShortUrlBase). */
export const shortUrlBase = (c: Context<AppEnv>) => shortUrlBaseFor(runtimeFor(c.env).config, c.req.url);

/** How this request's caller may name short domains (`domain` fields and `?domain=`). */
export const domainAccess = (c: Context<AppEnv>): DomainAccess =>
  new DomainAccess(
    c.var.db(),
    c.var.principal,
    runtimeFor(c.env).config.defaultHost,
    shortUrlBase(c).defaultName,
  );

/**
 * `/api/v1/links`: create, list, get, update, delete, bulk create, upsert by external id.
 *
 * @example api.route("/links", links)
 */
export const links = openApiApp();

const canRead = requireScope("links:read");
const canWrite = requireScope("links:write");

links.openapi(
  createRoute({
    method: "post",
    middleware: canWrite,
    path: "/",
    summary: "Create a link",
    security,
    request: { body: jsonBody(CreateLinkSchema) },
    responses: { 201: json(LinkSchema, "Created"), ...errors, 409: problem("Slug or externalId taken") },
  }),
  async (c) => {
    const { domain: name, ...input } = c.req.valid("json");
    const svc = services(c);
    const row = await svc.links.create(await svc.domains.storedDomain(name, "new-link"), input);
    return c.json(toApiLink(row, shortUrlBase(c)), 201, { Location: locationOf(row) });
  },
);

links.openapi(
  createRoute({
    method: "get",
    middleware: canRead,
    path: "/",
    summary: "List links: search, tag, domain, newest or most clicked first, cursor paging",
    security,
    request: { query: ListQuerySchema },
    responses: { 200: json(LinkListSchema, "A page of links"), ...errors },
  }),
  async (c) => {
    const { domain: name, ...query } = c.req.valid("query");
    const svc = services(c);
    const domain = name === undefined ? undefined : await svc.domains.storedDomain(name, "existing-links");
    const { rows, next } = await svc.links.list({ ...query, domain });
    const base = shortUrlBase(c);
    const data = rows.map((row) => ({ ...toApiLink(row, base), clicks: row.clicks }));
    return c.json({ data, nextCursor: next }, 200);
  },
);

links.openapi(
  createRoute({
    method: "post",
    middleware: canWrite,
    path: "/bulk",
    summary: "Create up to 100 links; each item succeeds or fails on its own",
    security,
    request: { body: jsonBody(BulkCreateSchema) },
    responses: { 200: json(BulkResultSchema, "Per-item results"), ...errors },
  }),
  async (c) => {
    const svc = services(c);
    const base = shortUrlBase(c);
    const results: z.infer<typeof BulkResultSchema>["results"] = [];
    for (const [index, item] of c.req.valid("json").entries()) {
      const parsed = CreateLinkSchema.safeParse(item);
      try {
        if (!parsed.success) {
          throw new ProblemError(400, "invalid-request", "Invalid request", {
            detail: `item ${index} is not valid`,
            errors: fieldProblems(parsed.error),
          });
        }
        const { domain: name, ...input } = parsed.data;
        const domain = await svc.domains.storedDomain(name, "new-link");
        results.push({ index, status: 201, link: toApiLink(await svc.links.create(domain, input), base) });
      } catch (err) {
        if (!(err instanceof ProblemError)) throw err;
        results.push({ index, status: err.status, error: err.toBody() });
      }
    }
    const created = results.filter((r) => r.status === 201).length;
    return c.json({ created, failed: results.length - created, results }, 200);
  },
);

links.openapi(
  createRoute({
    method: "put",
    middleware: canWrite,
    path: "/external/{externalId}",
    summary: "Create or replace the link with this external id (idempotent)",
    description:
      "Every field left out is reset to its default, except `password`, which is kept (never returned).",
    security,
    request: { params: ExternalIdParamSchema, body: jsonBody(UpsertLinkSchema) },
    responses: {
      200: json(LinkSchema, "Replaced"),
      201: json(LinkSchema, "Created"),
      ...errors,
      409: problem("Slug taken, or a different slug for this external id"),
    },
  }),
  async (c) => {
    const { domain: name, ...input } = c.req.valid("json");
    const svc = services(c);
    // It may create a link, so it is refused as a create on a domain the owner may not use.
    const domain = await svc.domains.storedDomain(name, "new-link");
    const { link, created } = await svc.links.upsertByExternalId(
      domain,
      c.req.valid("param").externalId,
      input,
    );
    return c.json(toApiLink(link, shortUrlBase(c)), created ? 201 : 200);
  },
);

links.openapi(
  createRoute({
    method: "get",
    middleware: canRead,
    path: "/{slug}",
    summary: "Get a link",
    security,
    request: { params: SlugParamSchema, query: DomainQuerySchema },
    responses: { 200: json(LinkSchema, "The link"), ...errors, 404: problem("No such link") },
  }),
  async (c) => {
    const svc = services(c);
    const domain = await svc.domains.storedDomain(c.req.valid("query").domain, "existing-links");
    return c.json(toApiLink(await svc.links.get(domain, c.req.valid("param").slug), shortUrlBase(c)), 200);
  },
);

links.openapi(
  createRoute({
    method: "patch",
    middleware: canWrite,
    path: "/{slug}",
    summary: "Update a link",
    security,
    request: { params: SlugParamSchema, query: DomainQuerySchema, body: jsonBody(UpdateLinkSchema) },
    responses: { 200: json(LinkSchema, "Updated"), ...errors, 404: problem("No such link") },
  }),
  async (c) => {
    const svc = services(c);
    const domain = await svc.domains.storedDomain(c.req.valid("query").domain, "existing-links");
    const row = await svc.links.update(domain, c.req.valid("param").slug, c.req.valid("json"));
    return c.json(toApiLink(row, shortUrlBase(c)), 200);
  },
);

links.openapi(
  createRoute({
    method: "delete",
    middleware: canWrite,
    path: "/{slug}",
    summary: "Delete a link (its slug is free again; its analytics stay)",
    security,
    request: { params: SlugParamSchema, query: DomainQuerySchema },
    responses: { 204: { description: "Deleted" }, ...errors, 404: problem("No such link") },
  }),
  async (c) => {
    const svc = services(c);
    await svc.links.delete(
      await svc.domains.storedDomain(c.req.valid("query").domain, "existing-links"),
      c.req.valid("param").slug,
    );
    return c.body(null, 204);
  },
);

/** The link's API address: its slug, and the domain query for a link not on the default domain. */
function locationOf(row: { slug: string; domain: string }): string {
  const path = `/api/v1/links/${row.slug}`;
  return row.domain === "" ? path : `${path}?domain=${encodeURIComponent(row.domain)}`;
}
