import { isValidSlug } from "@shared/links/slug";
import { notFound } from "@shared/problem";
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { answerRedirect } from "../redirect/answer";

/**
 * `GET|HEAD /:slug` through the router: only paths the fast path (fast-redirect.ts) leaves
 * to Hono get here, such as percent-encoded slugs, which Hono decodes.
 *
 * @example app.route("/", redirectRoute)
 */
export const redirectRoute = new Hono<AppEnv>().get("/:slug", (c) => {
  const slug = c.req.param("slug");
  // Impossible slugs and reserved words never cost a lookup.
  if (!isValidSlug(slug)) throw notFound("no link with this slug");
  return answerRedirect(c.req.raw, c.env, c.executionCtx, slug, c.req.path);
});
