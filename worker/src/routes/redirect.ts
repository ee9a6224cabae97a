import { isValidSlug } from "@shared/links/slug";
import { notFound } from "@shared/problem";
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { bodyLimit } from "../middleware/body-limit";
import { answerRedirect } from "../redirect/answer";
import { answerUnlock, UNLOCK_BODY_MAX_BYTES } from "../redirect/unlock";

/**
 * `GET|HEAD /:slug` through the router: only paths the fast path (fast-redirect.ts) leaves
 * to Hono get here, such as percent-encoded slugs, which Hono decodes. `POST /:slug` is a
 * password link's form (redirect/unlock.ts).
 *
 * @example app.route("/", redirectRoute)
 */
export const redirectRoute = new Hono<AppEnv>()
  .get("/:slug", (c) =>
    answerRedirect(c.req.raw, c.env, c.executionCtx, validSlug(c.req.param("slug")), c.req.path),
  )
  .post("/:slug", bodyLimit(UNLOCK_BODY_MAX_BYTES, 4 * UNLOCK_BODY_MAX_BYTES), (c) =>
    answerUnlock(c.req.raw, c.env, c.executionCtx, validSlug(c.req.param("slug")), c.req.path),
  );

/** Impossible slugs and reserved words never cost a lookup. */
function validSlug(slug: string): string {
  if (!isValidSlug(slug)) throw notFound("no link with this slug");
  return slug;
}
