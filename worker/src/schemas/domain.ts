import { z } from "@hono/zod-openapi";
import { HOST_MESSAGES, normalizeHost } from "@shared/domains/host";
import {
  parseTargetUrl,
  STATIC_RULES_ONLY,
  TARGET_URL_MAX_LENGTH,
  TARGET_URL_MESSAGES,
} from "@shared/links/target-url";
import { text, unsafeCharacter } from "./text";

/** Domain schemas: the domain API's bodies and answers, and the `domain` field links take. */

/** A domain name as sent: any spelling normalizeHost accepts (the service stores its normal form). */
export const DomainNameSchema = text()
  .max(300)
  .superRefine((value, ctx) => {
    // text() has refused control characters and lone surrogates already: one message per problem.
    if (unsafeCharacter(value) !== null) return;
    const { problem } = normalizeHost(value);
    if (problem) ctx.addIssue({ code: "custom", message: HOST_MESSAGES[problem] });
  })
  .openapi({
    description:
      "A short domain: a host name with an optional port (kept only when not 80 or 443). Case, a trailing " +
      "dot and international spellings are normalized (lowercase, punycode).",
    example: "acme.link",
  });

/** `domain` in link bodies and queries: left out, the default domain. */
export const LinkDomainSchema = DomainNameSchema.optional().openapi({
  description:
    "The link's short domain (one of GET /api/v1/domains, or the default domain's own name). Left out: the " +
    "default domain (PUBLIC_BASE_URL's host; without it, the request's host).",
  example: "acme.link",
});

export const DomainQuerySchema = z.object({
  domain: LinkDomainSchema.openapi({ param: { name: "domain", in: "query" } }),
});

/**
 * A domain's own redirect target, under the rules of link targets (the deployment's own hosts,
 * every short domain among them, are checked by the service). Not link.ts's TargetUrlSchema:
 * link.ts imports this module for the links' `domain` field.
 */
const RedirectUrlSchema = text()
  .max(TARGET_URL_MAX_LENGTH)
  .superRefine((value, ctx) => {
    const { problem } = parseTargetUrl(value, STATIC_RULES_ONLY);
    if (problem) ctx.addIssue({ code: "custom", message: TARGET_URL_MESSAGES[problem] });
  })
  .openapi({ format: "uri", example: "https://acme.example/" });

const OwnerIdSchema = text().regex(
  /^[A-Za-z0-9_.:-]{1,64}$/,
  "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
);

export const CreateDomainSchema = z
  .strictObject({
    name: DomainNameSchema,
    notFoundUrl: RedirectUrlSchema.optional().openapi({
      description: "Where an unknown slug on this domain redirects (302); left out, the 404 problem.",
    }),
    baseUrl: RedirectUrlSchema.optional().openapi({
      description: "Where the bare domain (`/`) redirects (302); left out, the 404 problem.",
    }),
    allowedOwners: z.array(OwnerIdSchema).min(1).max(100).optional().openapi({
      description: "Only these owners' keys may put links on this domain; left out, every owner's.",
    }),
  })
  .openapi("CreateDomain");

export const UpdateDomainSchema = z
  .strictObject({
    notFoundUrl: RedirectUrlSchema.nullable()
      .optional()
      .openapi({ description: "null removes it (then 404)." }),
    baseUrl: RedirectUrlSchema.nullable().optional().openapi({ description: "null removes it (then 404)." }),
    allowedOwners: z
      .array(OwnerIdSchema)
      .min(1)
      .max(100)
      .nullable()
      .optional()
      .openapi({ description: "null opens the domain to every owner." }),
  })
  .refine((body) => Object.keys(body).length > 0, "at least one field is required")
  .openapi("UpdateDomain");

export const DomainSchema = z
  .object({
    name: z.string(),
    /** True for the default domain's own row (PUBLIC_BASE_URL's host). */
    isDefault: z.boolean(),
    notFoundUrl: z.string().nullable(),
    baseUrl: z.string().nullable(),
    allowedOwners: z.array(z.string()).nullable(),
    createdAt: z.string(),
  })
  .openapi("Domain");

export const DomainListSchema = z
  .object({
    /** PUBLIC_BASE_URL's host; null when unset (then every Host not in `data` is the default domain). */
    defaultDomain: z.string().nullable(),
    unknownHosts: z.enum(["default", "not-found"]),
    data: z.array(DomainSchema),
  })
  .openapi("DomainList");

export const DomainParamSchema = z.object({
  name: DomainNameSchema.openapi({ param: { name: "name", in: "path" } }),
});

export type CreateDomainInput = z.infer<typeof CreateDomainSchema>;
export type UpdateDomainInput = z.infer<typeof UpdateDomainSchema>;
export type ApiDomain = z.infer<typeof DomainSchema>;
