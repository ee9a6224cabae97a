import { locationFor } from "@shared/links/location";
import { fromRecord, isTombstone } from "@shared/links/record";
import { isValidSlug } from "@shared/links/slug";
import { notFound, ProblemError } from "@shared/problem";
import { Hono } from "hono";
import type { AppEnv, Env } from "../env";
import { clickUnrecorded, queueSendFailure, redisFailure } from "../metrics";
import { runtimeFor } from "../runtime";
import {
  buildClickEvent,
  type ClickFacts,
  clientCountry,
  clientIp,
  clientIpHeader,
} from "../services/click-event";
import { type Background, resolveLink } from "../services/resolve-link";

/** Edits must take effect: browsers and shared caches revalidate every redirect. */
const CACHE_CONTROL = "private, max-age=0, no-cache";

const gone = (detail: string) => new ProblemError(410, "link-gone", "Link no longer available", { detail });

/**
 * `GET|HEAD /:slug` through the router: only paths the fast path in index.ts leaves to
 * Hono get here, such as percent-encoded slugs, which Hono decodes.
 *
 * @example app.route("/", redirect)
 */
export const redirect = new Hono<AppEnv>().get("/:slug", (c) => {
  const slug = c.req.param("slug");
  // Impossible slugs and reserved words never cost a lookup.
  if (!isValidSlug(slug)) throw notFound("no link with this slug");
  return serveRedirect(c.req.raw, c.env, c.executionCtx, slug);
});

/**
 * The hot path, for a valid slug. At most one KV read (none when this isolate has the
 * record); the Redis counter is awaited only for links with a click limit; the click
 * event leaves in waitUntil. Throws ProblemError for 404 and 410.
 * HEAD answers like GET but is not a click (link checkers and previews use it).
 */
export async function serveRedirect(
  req: Request,
  env: Env,
  ctx: Background,
  slug: string,
): Promise<Response> {
  const rt = runtimeFor(env);
  const record = await resolveLink(rt, env, ctx, slug);
  if (!record || isTombstone(record)) throw notFound("no link with this slug");

  const now = Date.now();
  const expiresAt = fromRecord.expiresAt(record);
  if (expiresAt !== null && expiresAt <= now) throw gone("the link has expired");

  const isClick = req.method === "GET";
  // Only a click limit needs the count before answering; other links are counted in Redis
  // by the aggregator once the click is stored, which keeps this path to one subrequest.
  let counted = false;
  const maxClicks = fromRecord.maxClicks(record);
  if (maxClicks !== null) {
    const count = await countClick(rt, fromRecord.id(record), isClick);
    counted = isClick && count !== null;
    // For HEAD the count is the clicks so far, so the limit is reached at equality.
    if (count !== null && (isClick ? count > maxClicks : count >= maxClicks)) {
      throw gone("the link has reached its click limit");
    }
  }

  // Without a salt the visitor hash would be guessable; the link still redirects (a redirect
  // service keeps redirecting), the click is not recorded, and /ready names the missing secret.
  const salt = env.VISITOR_SALT;
  if (isClick && !salt) clickUnrecorded.noVisitorSalt.inc();
  else if (isClick && salt) {
    const headers = req.headers;
    const facts = {
      requestId: rt.config.trustRequestId ? headers.get("x-request-id") : null,
      linkId: fromRecord.id(record),
      slug,
      ts: now,
      ip: clientIp(headers, clientIpHeader(req, rt.config.clientIpHeader)),
      country: clientCountry(req, rt.config.countryHeader),
      referrer: headers.get("referer"),
      userAgent: headers.get("user-agent"),
      counted,
    };
    ctx.waitUntil(sendClick(rt, facts, salt));
  }

  return new Response(null, {
    status: fromRecord.statusCode(record),
    headers: { Location: locationFor(fromRecord.url(record)), "Cache-Control": CACHE_CONTROL },
  });
}

/**
 * Builds and sends the click; never rejects and never throws, so no failure of it can
 * turn the redirect into a 500 (an async function turns a synchronous throw into the
 * rejection caught here).
 */
async function sendClick(rt: ReturnType<typeof runtimeFor>, facts: ClickFacts, salt: string): Promise<void> {
  try {
    await rt.clicks.send(buildClickEvent(facts, salt));
  } catch (err) {
    queueSendFailure.inc();
    console.error("click event not queued", err);
  }
}

/**
 * The only Redis call a redirect may await. Fails open (null) when Redis is slow or
 * down: a click limit is approximate under faults, a dead redirect is not acceptable.
 */
async function countClick(
  rt: ReturnType<typeof runtimeFor>,
  linkId: number,
  isClick: boolean,
): Promise<number | null> {
  try {
    return isClick ? await rt.counter.increment(linkId) : await rt.counter.current(linkId);
  } catch {
    redisFailure.clickLimit.inc();
    return null;
  }
}
