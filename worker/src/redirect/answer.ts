import type { Site } from "@shared/domains/table";
import type { LinkRecord } from "@shared/links/record";
import type { ClickCounter } from "@shared/ports";
import { notFound, ProblemError } from "@shared/problem";
import type { Env } from "../env";
import { clickUnrecorded, queueSendFailure, redisFailure } from "../metrics";
import { errorResponse } from "../problem-response";
import { type Runtime, runtimeFor } from "../runtime";
import { buildClickEvent, type ClickFacts, clientIp } from "../services/click-event";
import { type Background, resolveLink } from "../services/resolve-link";
import { type ClickCount, type DecisionContext, decideRedirect, type FinalDecision } from "./decide";
import {
  PASSWORD_PAGE_HEADERS,
  type PasswordFormState,
  PREVIEW_PAGE_HEADERS,
  passwordPage,
  previewPage,
} from "./pages";
import { type RequestFacts, requestFacts } from "./request-facts";

/** Edits must take effect: browsers and shared caches revalidate every redirect. */
const CACHE_CONTROL = "private, max-age=0, no-cache";

/**
 * Answers `GET|HEAD /<slug>` for a valid slug: the I/O around decideRedirect. The Host picks
 * the site (which domain's links, its not-found redirect) from the isolate's domain table,
 * in memory. At most one KV read (none when this isolate has the record; the first request
 * of an isolate also reads the domain table once); the Redis counter is awaited only for
 * links with a click limit; the click event leaves in waitUntil. Errors are answered as
 * problem+json (404, 410, 503, 500), never thrown; HEAD gets GET's status and headers.
 * A password link answers its form (./unlock.ts takes the POST), a preview crawler the
 * link's preview page.
 *
 * @example return answerRedirect(req, env, ctx, slug);
 */
export async function answerRedirect(
  req: Request,
  env: Env,
  ctx: Background,
  slug: string,
  /** The request's path, for a problem's `instance`: the fast path's is `/<slug>`, so no URL is parsed. */
  path = `/${slug}`,
): Promise<Response> {
  try {
    const rt = runtimeFor(env);
    // From memory, without an await, once this isolate has read the domain table.
    const host = hostOf(req.url);
    let site = rt.domains.siteNow(host, ctx);
    if (site === undefined) site = await rt.domains.site(host, ctx);
    if (site === null) return problemAnswer(req, path, unknownDomain());
    const link = await resolveLink(rt, ctx, site.domain, slug);
    const request = requestFacts(req, rt.config.countryHeader);
    const context = { now: Date.now(), forwardQueryByDefault: rt.config.forwardQueryByDefault };
    return await answerDecision(req, rt, ctx, { link, request, context, site, slug, path });
  } catch (err) {
    return problemAnswer(req, path, err);
  }
}

/** A looked-up link and the request it answers, as answerDecision takes them. */
export type DecisionInput = {
  link: LinkRecord | null;
  request: RequestFacts;
  context: DecisionContext;
  /** The domain the request's Host picked: its links, its not-found redirect. */
  site: Site;
  slug: string;
  path: string;
};

/**
 * Decides (counting first for a click-limited link) and answers: a redirect, the preview
 * page, the password form, or a problem. A click, a preview crawler's included, leaves in
 * waitUntil. Throws only what answerRedirect and answerUnlock catch.
 */
export async function answerDecision(
  req: Request,
  rt: Runtime,
  ctx: Background,
  input: DecisionInput,
): Promise<Response> {
  const { link, request, context, site, slug, path } = input;
  let decision = decideRedirect(link, request, context);
  if (decision.kind === "count") {
    decision = decideRedirect(link, request, context, await countClick(rt.counter, decision));
  }
  if (decision.kind === "not-found" && site.notFoundUrl) return siteRedirect(site.notFoundUrl);
  if (decision.kind === "password") return passwordAnswer(req, "ask", 200);
  if (decision.kind !== "redirect" && decision.kind !== "preview") {
    return problemAnswer(req, path, problemFor(decision));
  }
  if (decision.click) {
    // Without a salt the visitor hash would be guessable; the link still redirects (a redirect
    // service keeps redirecting), the click is not recorded, and /ready names the missing secret.
    const salt = rt.config.visitorSalt;
    if (!salt) clickUnrecorded.noVisitorSalt.inc();
    else
      ctx.waitUntil(
        sendClick(rt, clickFacts(req, rt, request, decision, site.domain, slug, context.now), salt),
      );
  }
  if (decision.kind === "preview") {
    const body = req.method === "HEAD" ? null : previewPage(decision.preview);
    return new Response(body, { status: 200, headers: PREVIEW_PAGE_HEADERS });
  }
  return new Response(null, {
    status: decision.status,
    headers: { Location: decision.location, "Cache-Control": CACHE_CONTROL },
  });
}

/** The password form; HEAD gets its status and headers only. */
export function passwordAnswer(
  req: Request,
  state: PasswordFormState,
  status: 200 | 401 | 429 | 503,
  headers: Record<string, string> = {},
): Response {
  const body = req.method === "HEAD" ? null : passwordPage(state);
  return new Response(body, { status, headers: { ...PASSWORD_PAGE_HEADERS, ...headers } });
}

/**
 * The site of the request's Host (awaits the domain table only in an isolate that has none yet);
 * a Host no domain answers is the unknown-domain problem. For the routes off the hot path.
 */
export async function requestSite(rt: Runtime, req: Request, ctx: Background): Promise<Site> {
  const site = await rt.domains.site(hostOf(req.url), ctx);
  if (site === null) throw unknownDomain();
  return site;
}

/** The authority of a request URL (`name[:port]`), cut from the string without parsing it. */
export function hostOf(url: string): string {
  const start = url.indexOf("://") + 3;
  const end = url.indexOf("/", start);
  return url.slice(start, end === -1 ? url.length : end);
}

/** A host no configured domain answers, in a deployment with UNKNOWN_HOSTS=not-found. */
export const unknownDomain = (): ProblemError =>
  new ProblemError(404, "unknown-domain", "Unknown domain", {
    detail: "this host is not a short domain of this service",
  });

/** A domain's own redirect (its base or not-found URL): not a click. */
export const siteRedirect = (location: string): Response =>
  new Response(null, { status: 302, headers: { Location: location, "Cache-Control": CACHE_CONTROL } });

function problemFor(decision: Extract<FinalDecision, { kind: "not-found" | "gone" }>): ProblemError {
  if (decision.kind === "not-found") return notFound("no link with this slug");
  const detail =
    decision.reason === "expired" ? "the link has expired" : "the link has reached its click limit";
  return new ProblemError(410, "link-gone", "Link no longer available", { detail });
}

/** The problem for `err`, with no body for HEAD (as Hono answers HEAD). */
export function problemAnswer(req: Request, path: string, err: unknown): Response {
  const res = errorResponse(err, req.method, path);
  return req.method === "HEAD" ? new Response(null, res) : res;
}

/** What the click event is made of, read from headers without parsing. */
function clickFacts(
  req: Request,
  rt: Runtime,
  request: RequestFacts,
  decision: Extract<FinalDecision, { kind: "redirect" | "preview" }>,
  domain: string,
  slug: string,
  now: number,
): ClickFacts {
  const headers = req.headers;
  return {
    requestId: rt.config.trustRequestId ? headers.get("x-request-id") : null,
    linkId: decision.linkId,
    domain,
    slug,
    ts: now,
    ip: clientIp(req, rt.config.clientIpHeader),
    country: request.country,
    referrer: headers.get("referer"),
    userAgent: request.userAgent,
    counted: decision.counted,
    rule: decision.kind === "redirect" ? decision.rule : null,
  };
}

/**
 * Builds and sends the click; never rejects and never throws, so no failure of it can
 * turn the redirect into a 500 (an async function turns a synchronous throw into the
 * rejection caught here).
 */
async function sendClick(rt: Runtime, facts: ClickFacts, salt: string): Promise<void> {
  try {
    await rt.clicks.send(buildClickEvent(facts, salt));
  } catch (err) {
    queueSendFailure.inc();
    console.error("click event not queued", err);
  }
}

/**
 * The only Redis call a redirect may await: an increment for a click, a read for HEAD.
 * Fails open (null) when Redis is slow or down.
 */
async function countClick(
  counter: ClickCounter,
  ask: { linkId: number; increment: boolean },
): Promise<ClickCount> {
  try {
    const clicks = ask.increment ? await counter.increment(ask.linkId) : await counter.current(ask.linkId);
    return { clicks };
  } catch {
    redisFailure.clickLimit.inc();
    return { clicks: null };
  }
}
