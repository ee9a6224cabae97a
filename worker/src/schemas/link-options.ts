import { z } from "@hono/zod-openapi";
import { isCountryCode } from "@shared/links/countries";
import { DEVICES, MAX_RULES, MAX_RULES_JSON_LENGTH, UTM_FIELDS } from "@shared/links/rules";
import { text } from "./text";

/**
 * What a link may carry besides its target (issue #17): redirect rules, a password, a social
 * preview, query forwarding and UTM parameters. Targets inside (a rule's `url`, a preview's
 * `image`) are TargetUrlSchemas, passed in by ./link.ts, and get the deployment's own rules in
 * LinkService like the main target.
 */

const RULE_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** A BCP 47 language tag as Accept-Language carries it: `de`, `de-AT`, `zh-Hant-TW`. */
const LANGUAGE_PATTERN = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;

const DateTimeSchema = z.iso.datetime({ offset: true });

const WhenSchema = z
  .strictObject({
    country: z
      .array(text().refine(isCountryCode, "must be an ISO 3166-1 alpha-2 country code in capitals, like DE"))
      .min(1)
      .max(50)
      .optional()
      .openapi({ description: "The visitor's country is one of these.", example: ["DE", "AT", "CH"] }),
    device: z
      .array(z.enum(DEVICES))
      .min(1)
      .max(DEVICES.length)
      .optional()
      .openapi({ description: "The visitor's platform, from the User-Agent.", example: ["ios"] }),
    language: z
      .array(text().max(35).regex(LANGUAGE_PATTERN, "must be a language tag like de or de-AT"))
      .min(1)
      .max(20)
      .optional()
      .openapi({
        description:
          "The visitor's first Accept-Language preference (highest q) is one of these, or more specific " +
          "(`de` matches `de-AT`).",
        example: ["de"],
      }),
    query: z
      .array(
        z.strictObject({
          name: text().min(1).max(128),
          value: text().max(1024).optional().openapi({ description: "Absent: the parameter is present." }),
        }),
      )
      .min(1)
      .max(10)
      .optional()
      .openapi({
        description: "Every parameter is in the short URL's query (with this value, when given).",
        example: [{ name: "ref", value: "newsletter" }],
      }),
    after: DateTimeSchema.optional().openapi({
      description: "From this instant on.",
      example: "2026-12-24T00:00:00Z",
    }),
    before: DateTimeSchema.optional().openapi({
      description: "Until this instant (excluded).",
      example: "2026-12-27T00:00:00Z",
    }),
  })
  .refine((when) => Object.keys(when).length > 0, "a rule needs at least one condition")
  .refine(
    (when) => !(when.after && when.before) || Date.parse(when.after) < Date.parse(when.before),
    "after must be earlier than before",
  );

/**
 * The rules, in order. Ids are unique within the link; a rule sent without one gets one.
 * `target` is the link's TargetUrlSchema.
 */
export function rulesSchema<Target extends z.ZodType<string>, Status extends z.ZodType<number>>(
  target: Target,
  status: Status,
) {
  const RuleSchema = z
    .strictObject({
      id: text().regex(RULE_ID_PATTERN, "must be 1-32 characters of A-Z a-z 0-9 _ -").optional().openapi({
        description: "Stable id (kept across edits and reorders); assigned when absent. Clicks record it.",
        example: "ios-app",
      }),
      when: WhenSchema,
      url: target,
      statusCode: status.optional().openapi({ description: "Default: the link's own status code." }),
    })
    .openapi("RedirectRuleInput");
  return z
    .array(RuleSchema)
    .max(MAX_RULES)
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((rule, index) => {
        if (rule.id === undefined) return;
        if (seen.has(rule.id))
          ctx.addIssue({ code: "custom", path: [index, "id"], message: "is used twice" });
        seen.add(rule.id);
      });
      if (JSON.stringify(rules).length > MAX_RULES_JSON_LENGTH) {
        ctx.addIssue({
          code: "custom",
          message: `must not exceed ${MAX_RULES_JSON_LENGTH} characters as JSON`,
        });
      }
    })
    .openapi({
      description:
        `Up to ${MAX_RULES} rules (${MAX_RULES_JSON_LENGTH} characters as JSON); the first whose conditions all hold chooses the target (and may choose the ` +
        "status code), else the link's own target.",
      example: [
        { id: "ios-app", when: { device: ["ios"] }, url: "https://apps.apple.com/app/id123" },
        { id: "german", when: { country: ["DE", "AT"], language: ["de"] }, url: "https://example.com/de" },
      ],
    });
}

/** A rule as GET answers it: always with its id. */
export const RuleResponseSchema = z
  .object({
    id: z.string(),
    when: WhenSchema,
    url: z.string(),
    statusCode: z.number().int().optional(),
  })
  .openapi("RedirectRule");

/** A link's social preview. `image` is the link's TargetUrlSchema. */
export function previewSchema<Target extends z.ZodType<string>>(image: Target) {
  return z
    .strictObject({
      title: text().min(1).max(200).optional(),
      description: text().min(1).max(500).optional(),
      image: image.optional(),
    })
    .refine((preview) => Object.keys(preview).length > 0, "a preview needs a title, description or image")
    .openapi("LinkPreview", {
      description:
        "Shown to link-preview crawlers (Slack, X, Facebook, LinkedIn, Discord, WhatsApp, Telegram, …) as Open " +
        "Graph and Twitter card tags instead of the redirect.",
      example: {
        title: "Launch 2026",
        description: "Everything we ship this year.",
        image: "https://example.com/og.png",
      },
    });
}

export const UtmSchema = z
  .strictObject(
    Object.fromEntries(UTM_FIELDS.map((field) => [field, text().min(1).max(200).optional()])) as {
      [Field in (typeof UTM_FIELDS)[number]]: z.ZodOptional<ReturnType<typeof text>>;
    },
  )
  .refine((utm) => Object.keys(utm).length > 0, "give at least one UTM field")
  .openapi("Utm", {
    description:
      "Added to the target as utm_source, utm_medium, …, replacing the target's own; a forwarded query wins over them.",
    example: { source: "newsletter", medium: "email", campaign: "launch-2026" },
  });

export const PasswordSchema = text().min(1).max(128).openapi({
  description:
    "Visitors get a form asking for it. Stored as a salted PBKDF2 hash and never returned (`passwordProtected`).",
  example: "open sesame",
});

export const ForwardQuerySchema = z.boolean().openapi({
  description:
    "Forward the short URL's query string to the target; its parameters replace the target's of the same name. " +
    "Null or absent: the deployment's FORWARD_QUERY.",
  example: true,
});
