import { createRoute, z } from "@hono/zod-openapi";
import { requireKey } from "../middleware/auth";
import { isAdminToken } from "../services/key-authority";
import { shortUrlBase } from "./links";
import { openApiApp } from "./openapi-app";
import { authErrors, json, security } from "./openapi-docs";

const MeSchema = z
  .object({
    ownerId: z.string(),
    scopes: z.array(z.string()),
    admin: z.boolean().openapi({ description: "The admin token: sees and manages every owner's links" }),
    defaultDomain: z.string().openapi({
      description: "The default domain's name as link answers give it; a slug route needs no `domain` for it",
    }),
  })
  .openapi("Me");

/**
 * `GET /api/v1/me`: who the presented key is. The dashboard's sign-in checks the key with it and learns
 * which views to offer; any valid key may ask.
 *
 * @example api.route("/me", me)
 */
export const me = openApiApp();

me.openapi(
  createRoute({
    method: "get",
    path: "/",
    summary: "The caller: owner, scopes, and whether it is the admin token",
    security,
    middleware: requireKey(),
    responses: { 200: json(MeSchema, "The caller"), 401: authErrors[401], 429: authErrors[429] },
  }),
  (c) => {
    const principal = c.var.principal;
    const body = {
      ownerId: principal.ownerId,
      scopes: [...principal.scopes],
      admin: isAdminToken(principal),
      defaultDomain: shortUrlBase(c).defaultName,
    };
    return c.json(body, 200);
  },
);
