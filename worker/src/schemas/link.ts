import { z } from "@hono/zod-openapi";
import { REDIRECT_STATUSES } from "@shared/links/record";
import { isReservedSlug, SLUG_MAX_LENGTH, SLUG_PATTERN } from "@shared/links/slug";
import {
  parseTargetUrl,
  STATIC_RULES_ONLY,
  TARGET_URL_MAX_LENGTH,
  TARGET_URL_MESSAGES,
} from "@shared/links/target-url";
import { LinkDomainSchema } from "./domain";
import {
  ForwardQuerySchema,
  PasswordSchema,
  previewSchema,
  RuleResponseSchema,
  rulesSchema,
  UtmSchema,
} from "./link-options";
import { ownerQuery } from "./owner";
import { text } from "./text";

/**
 * Link schemas: the same objects validate requests and generate /openapi.json. Every
 * string a request carries is a `text()`, which refuses control characters and lone surrogates.
 */

/** A slug's form. A path may name a reserved word: a link made before its word was reserved stays manageable. */
const SlugFormSchema = text()
  .max(SLUG_MAX_LENGTH)
  .regex(SLUG_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -");

/** A slug a new link may take: not a reserved word. */
export const SlugSchema = SlugFormSchema.refine(
  (slug) => !isReservedSlug(slug),
  "is a reserved word",
).openapi({
  example: "launch-2026",
});

export const TargetUrlSchema = text()
  .max(TARGET_URL_MAX_LENGTH)
  .superRefine((value, ctx) => {
    // The rules that depend on the deployment (own hosts, private targets) run in LinkService.
    const { problem } = parseTargetUrl(value, STATIC_RULES_ONLY);
    if (problem) ctx.addIssue({ code: "custom", message: TARGET_URL_MESSAGES[problem] });
  })
  .openapi({
    format: "uri",
    description:
      "An absolute http(s) URL written as `http(s)://host/…`, without credentials or a backslash before the " +
      "path; not this service's own host, nor localhost or a loopback, private or link-local address. " +
      "Stored and served in WHATWG-normalized form (punycode host, percent-encoded path).",
    example: "https://example.com/landing?utm_source=short",
  });

// A union of single literals: the multi-value z.literal([...]) is documented as its first value only.
const StatusCodeSchema = z
  .union(
    REDIRECT_STATUSES.map((code) => z.literal(code)) as [
      z.ZodLiteral<301>,
      z.ZodLiteral<302>,
      z.ZodLiteral<307>,
      z.ZodLiteral<308>,
    ],
  )
  .openapi({ example: 302 });

const FutureDateSchema = z.iso
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) > Date.now(), "must be in the future")
  .openapi({ example: "2030-01-01T00:00:00Z" });

const MaxClicksSchema = z.number().int().min(1).max(2_147_483_647);
const RulesSchema = rulesSchema(TargetUrlSchema, StatusCodeSchema);
const PreviewSchema = previewSchema(TargetUrlSchema);
const TagsSchema = z.array(text().min(1).max(64)).max(20);
/** The caller's own id; it appears in a URL path, so only unreserved characters, and never a dot segment. */
export const ExternalIdSchema = text()
  .regex(/^[A-Za-z0-9._~:@-]{1,128}$/, "must be 1-128 characters of A-Z a-z 0-9 . _ ~ : @ -")
  .refine((id) => id !== "." && id !== "..", "must not be . or ..")
  .openapi({ example: "crm-42" });

const linkFields = {
  domain: LinkDomainSchema,
  url: TargetUrlSchema,
  slug: SlugSchema.optional(),
  statusCode: StatusCodeSchema.optional(),
  expiresAt: FutureDateSchema.optional(),
  maxClicks: MaxClicksSchema.optional(),
  tags: TagsSchema.optional(),
  rules: RulesSchema.optional(),
  password: PasswordSchema.optional(),
  preview: PreviewSchema.optional(),
  forwardQuery: ForwardQuerySchema.optional(),
  utm: UtmSchema.optional(),
};

export const CreateLinkSchema = z
  .strictObject({ ...linkFields, externalId: ExternalIdSchema.optional() })
  .openapi("CreateLink");

/** PUT by external id: the id is in the path. */
export const UpsertLinkSchema = z.strictObject(linkFields).openapi("UpsertLink");

export const UpdateLinkSchema = z
  .strictObject({
    url: TargetUrlSchema.optional(),
    statusCode: StatusCodeSchema.optional(),
    expiresAt: FutureDateSchema.nullable().optional(),
    maxClicks: MaxClicksSchema.nullable().optional(),
    tags: TagsSchema.optional(),
    rules: RulesSchema.optional(),
    /** null removes the password. */
    password: PasswordSchema.nullable().optional(),
    preview: PreviewSchema.nullable().optional(),
    forwardQuery: ForwardQuerySchema.nullable().optional(),
    utm: UtmSchema.nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, "at least one field is required")
  .openapi("UpdateLink");

export const LinkSchema = z
  .object({
    id: z.number().int(),
    domain: z
      .string()
      .openapi({ description: "The short domain (the default domain's name when it has one)." }),
    slug: z.string(),
    shortUrl: z.string(),
    url: z.string(),
    statusCode: z.number().int(),
    expiresAt: z.string().nullable(),
    maxClicks: z.number().int().nullable(),
    externalId: z.string().nullable(),
    tags: z.array(z.string()),
    ownerId: z
      .string()
      .openapi({ description: "The owner whose key made it (the admin token sees every owner)" }),
    rules: z.array(RuleResponseSchema).openapi({
      description: "Redirect rules in order, each with its id; [] for none.",
      example: [{ id: "ios-app", when: { device: ["ios"] }, url: "https://apps.apple.com/app/id123" }],
    }),
    /** The password itself, or its hash, is never returned. */
    passwordProtected: z
      .boolean()
      .openapi({ description: "The link has a password (never returned itself).", example: false }),
    preview: z
      .object({
        title: z.string().optional(),
        description: z.string().optional(),
        image: z.string().optional(),
      })
      .nullable()
      .openapi({ description: "The social preview, or null.", example: { title: "Launch 2026" } }),
    forwardQuery: z
      .boolean()
      .nullable()
      .openapi({ description: "Null: the deployment's FORWARD_QUERY.", example: null }),
    utm: z
      .record(z.string(), z.string())
      .nullable()
      .openapi({
        description: "UTM fields added to the target, or null.",
        example: { source: "newsletter" },
      }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Link");

/** A link in a list, with its clicks so far (humans and bots, from the hourly rollups). */
export const ListedLinkSchema = LinkSchema.extend({ clicks: z.number().int() }).openapi("ListedLink");

export const LinkListSchema = z
  .object({ data: z.array(ListedLinkSchema), nextCursor: z.string().nullable() })
  .openapi("LinkList");

export const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: text().max(64).optional(),
  tag: text().min(1).max(64).optional(),
  q: text()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: "Case-insensitive text found in the slug, the target URL or a tag" }),
  sort: z
    .enum(["newest", "clicks"])
    .default("newest")
    .openapi({ description: "newest first, or most clicked first (then newest)" }),
  owner: ownerQuery("every owner's"),
  domain: LinkDomainSchema.openapi({ description: "Only links on this domain; left out, every domain." }),
});

export const SlugParamSchema = z.object({
  slug: SlugFormSchema.openapi({ param: { name: "slug", in: "path" }, example: "launch-2026" }),
});
export const ExternalIdParamSchema = z.object({
  externalId: ExternalIdSchema.openapi({ param: { name: "externalId", in: "path" } }),
});

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

export const BULK_MAX = 100;

export const BulkCreateSchema = z.array(z.unknown()).min(1).max(BULK_MAX).openapi("BulkCreate");

export const BulkResultSchema = z
  .object({
    created: z.number().int(),
    failed: z.number().int(),
    results: z.array(
      z.object({
        index: z.number().int(),
        status: z.number().int(),
        link: LinkSchema.optional(),
        error: ProblemSchema.optional(),
      }),
    ),
  })
  .openapi("BulkResult");

export type CreateLinkInput = z.infer<typeof CreateLinkSchema>;
export type UpdateLinkInput = z.infer<typeof UpdateLinkSchema>;
export type ApiLink = z.infer<typeof LinkSchema>;
export type ListQuery = z.output<typeof ListQuerySchema>;
