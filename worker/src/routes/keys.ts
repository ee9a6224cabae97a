import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../middleware/auth";
import { ApiKeySchema, CreatedKeySchema, CreateKeySchema, KeyIdParamSchema } from "../schemas/keys";
import { createApiKey, listApiKeys, revokeApiKey } from "../services/api-keys";
import { keyOwnerScope, ownerForNewKey } from "../services/key-authority";
import { openApiApp } from "./openapi-app";
import { authErrors, jsonBody, problem, security } from "./openapi-docs";

const errors = { 400: problem("Invalid input"), ...authErrors };
const admin = requireScope("keys:admin");

/**
 * `/api/v1/keys`: create (secret returned once), list, revoke. Needs `keys:admin`; an API
 * key acts on its own owner's keys only, the admin token on every owner's (key-authority.ts).
 *
 * @example api.route("/keys", keys)
 */
export const keys = openApiApp();

keys.openapi(
  createRoute({
    method: "post",
    path: "/",
    middleware: admin,
    summary: "Create an API key; the secret is in this response only",
    security,
    request: { body: jsonBody(CreateKeySchema) },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: CreatedKeySchema } } },
      ...errors,
      403: problem("The key lacks keys:admin, names another owner, or grants a scope it does not hold"),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const ownerId = ownerForNewKey(c.var.principal, input);
    return c.json(await createApiKey(c.var.db(), { ...input, ownerId }), 201);
  },
);

keys.openapi(
  createRoute({
    method: "get",
    path: "/",
    middleware: admin,
    summary: "List the caller's owner's API keys, every owner's for the admin token (never their secrets)",
    security,
    responses: {
      200: {
        description: "Keys",
        content: { "application/json": { schema: z.object({ data: z.array(ApiKeySchema) }) } },
      },
      ...errors,
    },
  }),
  async (c) => c.json({ data: await listApiKeys(c.var.db(), keyOwnerScope(c.var.principal)) }, 200),
);

keys.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    middleware: admin,
    summary: "Revoke an API key, at once",
    security,
    request: { params: KeyIdParamSchema },
    responses: {
      204: { description: "Revoked" },
      ...errors,
      404: problem("No active key with this id of the caller's owner"),
    },
  }),
  async (c) => {
    await revokeApiKey(c.var.db(), c.req.valid("param").id, keyOwnerScope(c.var.principal));
    return c.body(null, 204);
  },
);
