import { z } from "@hono/zod-openapi";
import { ADMIN_OWNER, isReservedOwner, SCOPES } from "@shared/api-keys";
import { text } from "./text";

export const CreateKeySchema = z
  .strictObject({
    name: text().min(1).max(100).openapi({ example: "CRM integration" }),
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    ownerId: text()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 _ . : -")
      .refine((id) => !isReservedOwner(id), `"${ADMIN_OWNER}" is reserved for the admin token`)
      .optional()
      .openapi({
        description:
          "Keys with the same owner see the same links. Only the admin token may name an owner other than the " +
          "caller's; left out, the calling key's own owner (for the admin token, a new owner). " +
          `"${ADMIN_OWNER}" is reserved.`,
      }),
  })
  .openapi("CreateKey");

export const ApiKeySchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    ownerId: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi("ApiKey");

export const CreatedKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: "The secret. Shown once; store it now." }),
}).openapi("CreatedKey");

export const KeyIdParamSchema = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ param: { name: "id", in: "path" } }),
});
