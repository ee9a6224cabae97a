import { createRoute } from "@hono/zod-openapi";
import { ProblemError } from "@shared/problem";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { requireScope } from "../middleware/auth";
import { runtimeFor } from "../runtime";
import {
  CreateDomainSchema,
  DomainListSchema,
  DomainParamSchema,
  DomainSchema,
  UpdateDomainSchema,
} from "../schemas/domain";
import { DomainService, toApiDomain } from "../services/domains";
import { isAdminToken } from "../services/key-authority";
import { openApiApp } from "./openapi-app";
import { authErrors, json, jsonBody, problem, security } from "./openapi-docs";

const errors = { 400: problem("Invalid input"), ...authErrors, 403: problem("Not the admin token") };

/** The domain table serves every owner: only the ADMIN_TOKEN changes or reads it, no API key. */
const adminOnly = [
  requireScope("keys:admin"),
  createMiddleware<AppEnv>(async (c, next) => {
    if (!isAdminToken(c.var.principal)) {
      throw new ProblemError(403, "admin-only", "Admin only", {
        detail: "only the admin token manages domains",
      });
    }
    await next();
  }),
];

function service(c: Context<AppEnv>): DomainService {
  const rt = runtimeFor(c.env);
  const ownHosts = [new URL(c.req.url).hostname, ...(rt.config.publicHost ? [rt.config.publicHost] : [])];
  return new DomainService(c.var.db(), rt.domains, {
    defaultHost: rt.config.defaultHost,
    ownHosts,
    allowPrivate: rt.config.allowPrivateTargets,
  });
}

/**
 * `/api/v1/domains`: the short domains this deployment answers for (admin token only): list,
 * add (with its not-found and base redirects and allowed owners), change those, remove.
 *
 * @example api.route("/domains", domainRoutes)
 */
export const domainRoutes = openApiApp();

domainRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    middleware: adminOnly,
    summary: "List the short domains, the default domain and what unknown hosts get",
    security,
    responses: { 200: json(DomainListSchema, "Domains"), ...errors },
  }),
  async (c) => {
    const { defaultHost, unknownHosts } = runtimeFor(c.env).config;
    const rows = await service(c).list();
    return c.json(
      { defaultDomain: defaultHost, unknownHosts, data: rows.map((row) => toApiDomain(row, defaultHost)) },
      200,
    );
  },
);

domainRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    middleware: adminOnly,
    summary: "Add a short domain; requests with its Host are served by its links from now on",
    security,
    request: { body: jsonBody(CreateDomainSchema) },
    responses: { 201: json(DomainSchema, "Added"), ...errors, 409: problem("Already configured") },
  }),
  async (c) => {
    const row = await service(c).add(c.req.valid("json"));
    const location = `/api/v1/domains/${encodeURIComponent(row.name)}`;
    return c.json(toApiDomain(row, runtimeFor(c.env).config.defaultHost), 201, { Location: location });
  },
);

domainRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/{name}",
    middleware: adminOnly,
    summary: "Change a short domain's redirects or allowed owners (null removes one)",
    security,
    request: { params: DomainParamSchema, body: jsonBody(UpdateDomainSchema) },
    responses: { 200: json(DomainSchema, "Changed"), ...errors, 404: problem("No such domain") },
  }),
  async (c) => {
    const row = await service(c).update(c.req.valid("param").name, c.req.valid("json"));
    return c.json(toApiDomain(row, runtimeFor(c.env).config.defaultHost), 200);
  },
);

domainRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{name}",
    middleware: adminOnly,
    summary: "Remove a short domain (refused while it has live links)",
    security,
    request: { params: DomainParamSchema },
    responses: {
      204: { description: "Removed" },
      ...errors,
      404: problem("No such domain"),
      409: problem("The domain still has live links"),
    },
  }),
  async (c) => {
    await service(c).remove(c.req.valid("param").name);
    return c.body(null, 204);
  },
);
