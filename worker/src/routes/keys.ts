import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../middleware/auth";
import { ApiKeySchema, CreatedKeySchema, CreateKeySchema, KeyIdParamSchema } from "../schemas/keys";
import { createApiKey, listApiKeys, revokeApiKey } from "../services/api-keys";
import { openApiApp } from "./openapi-app";
import { authErrors, jsonBody, problem, security } from "./openapi-docs";

const errors = { 400: problem("Invalid input"), ...authErrors };
const admin = requireScope("keys:admin");

/**
 * `/api/v1/keys`: create (secret returned once), list, revoke. Needs `keys:admin`.
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
    },
  }),
  async (c) => c.json(await createApiKey(c.var.db(), c.req.valid("json")), 201),
);

keys.openapi(
  createRoute({
    method: "get",
    path: "/",
    middleware: admin,
    summary: "List API keys (never their secrets)",
    security,
    responses: {
      200: {
        description: "Keys",
        content: { "application/json": { schema: z.object({ data: z.array(ApiKeySchema) }) } },
      },
      ...errors,
    },
  }),
  async (c) => c.json({ data: await listApiKeys(c.var.db()) }, 200),
);

keys.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    middleware: admin,
    summary: "Revoke an API key, at once",
    security,
    request: { params: KeyIdParamSchema },
    responses: { 204: { description: "Revoked" }, ...errors, 404: problem("No active key with this id") },
  }),
  async (c) => {
    await revokeApiKey(c.var.db(), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
