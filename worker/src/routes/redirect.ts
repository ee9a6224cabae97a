import { isValidSlug } from "@shared/links/slug";
import { notFound } from "@shared/problem";
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { bodyLimit } from "../middleware/body-limit";
import { answerRedirect, requestSite, siteRedirect } from "../redirect/answer";
import { answerUnlock, UNLOCK_BODY_MAX_BYTES } from "../redirect/unlock";
import { runtimeFor } from "../runtime";

/**
 * `GET|HEAD /` (the bare domain: its domain's base redirect, else 404) and `GET|HEAD /:slug`
 * through the router: only paths the fast path (fast-redirect.ts) leaves to Hono get there,
 * such as percent-encoded slugs, which Hono decodes. `POST /:slug` is a password link's form
 * (redirect/unlock.ts).
 *
 * @example app.route("/", redirectRoute)
 */
export const redirectRoute = new Hono<AppEnv>()
  .get("/", async (c) => {
    const site = await requestSite(runtimeFor(c.env), c.req.raw, c.executionCtx);
    if (site.baseUrl) return siteRedirect(site.baseUrl);
    throw notFound("no such resource");
  })
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
