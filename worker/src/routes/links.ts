import { createRoute, type z } from "@hono/zod-openapi";
import { ProblemError } from "@shared/problem";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { requireScope } from "../middleware/auth";
import { fieldProblems } from "../middleware/errors";
import { runtimeFor } from "../runtime";
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
import { isAdminToken } from "../services/key-authority";
import { LinkService, toApiLink } from "../services/links";
import { openApiApp } from "./openapi-app";
import { authErrors, json, jsonBody, problem, security } from "./openapi-docs";

const errors = { 400: problem("Invalid input"), ...authErrors };

/** The caller's link service, with this deployment's target rules (also used by the QR route). */
export function service(c: Context<AppEnv>): LinkService {
  const url = new URL(c.req.url);
  const rt = runtimeFor(c.env);
  const ownHosts = [url.hostname, ...(rt.config.publicHost ? [rt.config.publicHost] : [])];
  const targetPolicy = { ownHosts, allowPrivate: rt.config.allowPrivateTargets };
  const principal = c.var.principal;
  return new LinkService(c.var.db(), rt.links, principal.ownerId, targetPolicy, isAdminToken(principal));
}

/** The origin of short URLs: PUBLIC_BASE_URL, else the request's own. */
export const baseUrl = (c: Context<AppEnv>): string =>
  runtimeFor(c.env).config.publicBaseUrl ?? new URL(c.req.url).origin;

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
    const row = await service(c).create(c.req.valid("json"));
    return c.json(toApiLink(row, baseUrl(c)), 201, { Location: `/api/v1/links/${row.slug}` });
  },
);

links.openapi(
  createRoute({
    method: "get",
    middleware: canRead,
    path: "/",
    summary: "List links: search, tag, newest or most clicked first, cursor paging",
    security,
    request: { query: ListQuerySchema },
    responses: { 200: json(LinkListSchema, "A page of links"), ...errors },
  }),
  async (c) => {
    const { rows, next } = await service(c).list(c.req.valid("query"));
    const base = baseUrl(c);
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
    const svc = service(c);
    const base = baseUrl(c);
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
        results.push({ index, status: 201, link: toApiLink(await svc.create(parsed.data), base) });
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
    const { link, created } = await service(c).upsertByExternalId(
      c.req.valid("param").externalId,
      c.req.valid("json"),
    );
    return c.json(toApiLink(link, baseUrl(c)), created ? 201 : 200);
  },
);

links.openapi(
  createRoute({
    method: "get",
    middleware: canRead,
    path: "/{slug}",
    summary: "Get a link",
    security,
    request: { params: SlugParamSchema },
    responses: { 200: json(LinkSchema, "The link"), ...errors, 404: problem("No such link") },
  }),
  async (c) => c.json(toApiLink(await service(c).get(c.req.valid("param").slug), baseUrl(c)), 200),
);

links.openapi(
  createRoute({
    method: "patch",
    middleware: canWrite,
    path: "/{slug}",
    summary: "Update a link",
    security,
    request: { params: SlugParamSchema, body: jsonBody(UpdateLinkSchema) },
    responses: { 200: json(LinkSchema, "Updated"), ...errors, 404: problem("No such link") },
  }),
  async (c) => {
    const row = await service(c).update(c.req.valid("param").slug, c.req.valid("json"));
    return c.json(toApiLink(row, baseUrl(c)), 200);
  },
);

links.openapi(
  createRoute({
    method: "delete",
    middleware: canWrite,
    path: "/{slug}",
    summary: "Delete a link (its slug is free again; its analytics stay)",
    security,
    request: { params: SlugParamSchema },
    responses: { 204: { description: "Deleted" }, ...errors, 404: problem("No such link") },
  }),
  async (c) => {
    await service(c).delete(c.req.valid("param").slug);
    return c.body(null, 204);
  },
);
