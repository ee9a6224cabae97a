import type { Site } from "@shared/domains/table";
import type { LinkRecord } from "@shared/links/record";
import type { ClickCounter, QueueingClickSink, WritingClickSink } from "@shared/ports";
import { notFound, ProblemError } from "@shared/problem";
import type { Env } from "../env";
import { clickUnrecorded, queueSendFailure, redisFailure } from "../metrics";
import { errorResponse } from "../problem-response";
import { type Runtime, runtimeFor } from "../runtime";
import { buildClickEvent, type ClickFacts, clientIp } from "../services/click-event";
import { type Background, lookUpLink } from "../services/resolve-link";
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
 * links with a click limit; the click event is written before the answer (self-host's stdout
 * line) or leaves in waitUntil (a Queue send). A redirect the isolate answers from memory is
 * a Response, with no promise made on the way; otherwise a promise of one. Errors are answered
 * as problem+json (404, 410, 503, 500), never thrown; HEAD gets GET's status and headers.
 * A password link answers its form (./unlock.ts takes the POST), a preview crawler the
 * link's preview page.
 *
 * @example return answerRedirect(req, env, ctx, slug);
 */
export function answerRedirect(
  req: Request,
  env: Env,
  ctx: Background,
  slug: string,
  /** The request's path, for a problem's `instance`: the fast path's is `/<slug>`, so no URL is parsed. */
  path = `/${slug}`,
): Response | Promise<Response> {
  try {
    const rt = runtimeFor(env);
    // From memory, without an await, once this isolate has read the domain table.
    const host = hostOf(req.url);
    const site = rt.domains.siteNow(host, ctx);
    const answer =
      site === undefined
        ? rt.domains.site(host, ctx).then((read) => answerSite(req, rt, ctx, read, slug, path))
        : answerSite(req, rt, ctx, site, slug, path);
    return answer instanceof Promise ? answer.catch((err) => problemAnswer(req, path, err)) : answer;
  } catch (err) {
    return problemAnswer(req, path, err);
  }
}

/**
 * The answer on `site` (null: no domain answers the Host): without a promise when the isolate holds the link
 * and nothing is awaited (no click limit), which is most redirects; may throw or reject.
 */
function answerSite(
  req: Request,
  rt: Runtime,
  ctx: Background,
  site: Site | null,
  slug: string,
  path: string,
): Response | Promise<Response> {
  if (site === null) return problemAnswer(req, path, unknownDomain());
  const link = lookUpLink(rt, ctx, site.domain, slug);
  if (link instanceof Promise) return link.then((read) => answerLink(req, rt, ctx, read, site, slug, path));
  return answerLink(req, rt, ctx, link, site, slug, path);
}

function answerLink(
  req: Request,
  rt: Runtime,
  ctx: Background,
  link: LinkRecord | null,
  site: Site,
  slug: string,
  path: string,
): Response | Promise<Response> {
  const request = requestFacts(req, rt.config.countryHeader);
  const context = { now: Date.now(), forwardQueryByDefault: rt.config.forwardQueryByDefault };
  return answerDecision(req, rt, ctx, { link, request, context, site, slug, path });
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
 * Decides (counting first for a click-limited link, the only case that returns a promise) and
 * answers: a redirect, the preview page, the password form, or a problem. A click, a preview
 * crawler's included, is written now or leaves in waitUntil. Throws (or rejects with) only what
 * answerRedirect and answerUnlock catch.
 */
export function answerDecision(
  req: Request,
  rt: Runtime,
  ctx: Background,
  input: DecisionInput,
): Response | Promise<Response> {
  const { link, request, context } = input;
  const decision = decideRedirect(link, request, context);
  if (decision.kind === "count") {
    return countClick(rt.counter, decision).then((count) =>
      answerFinal(req, rt, ctx, input, decideRedirect(link, request, context, count)),
    );
  }
  return answerFinal(req, rt, ctx, input, decision);
}

function answerFinal(
  req: Request,
  rt: Runtime,
  ctx: Background,
  input: DecisionInput,
  decision: FinalDecision,
): Response {
  const { request, context, site, slug, path } = input;
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
    else {
      const facts = clickFacts(req, rt, request, decision, site.domain, slug, context.now);
      // A synchronous sink (self-host's stdout line) is written here, before the answer, without the
      // bookkeeping of a waitUntil (3% of a redirect's CPU); a Queue send is I/O and goes to waitUntil.
      const sink = rt.clicks;
      if ("write" in sink) writeClick(sink, facts, salt);
      else ctx.waitUntil(sendClick(sink, facts, salt));
    }
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

/** Builds and writes the click now; never throws, so no failure of it can turn the redirect into a 500. */
function writeClick(writer: WritingClickSink, facts: ClickFacts, salt: string): void {
  try {
    writer.write(buildClickEvent(facts, salt));
  } catch (err) {
    queueSendFailure.inc();
    console.error("click event not written", err);
  }
}

/**
 * Builds and sends the click; never rejects and never throws, so no failure of it can
 * turn the redirect into a 500 (an async function turns a synchronous throw into the
 * rejection caught here).
 */
async function sendClick(queue: QueueingClickSink, facts: ClickFacts, salt: string): Promise<void> {
  try {
    await queue.send(buildClickEvent(facts, salt));
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
