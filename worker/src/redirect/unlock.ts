import { fromRecord, isTombstone } from "@shared/links/record";
import { ProblemError } from "@shared/problem";
import type { Env } from "../env";
import { consumeLimit } from "../middleware/rate-limit";
import { runtimeFor } from "../runtime";
import { clientIp } from "../services/click-event";
import { verifyPassword } from "../services/link-password";
import { type Background, resolveLink } from "../services/resolve-link";
import { answerDecision, passwordAnswer, problemAnswer, requestSite } from "./answer";
import { requestFacts } from "./request-facts";

/** A form body is one short field; anything longer is not a password this API stored (128 characters at most). */
export const UNLOCK_BODY_MAX_BYTES = 2048;

/**
 * Answers `POST /<slug>`, the password form's submission. Before any hash is computed, one
 * attempt is counted against the client's IP and against the link (rate-limit tiers `unlockIp`,
 * `unlockLink`: 429 with the form; 503 with the form when Redis cannot count them, since
 * guessing must not become unlimited). A wrong password answers 401 with the form; the right
 * one is decided like a GET (rules, click limit, UTM, forwarded query) and answered with 303
 * and one click. Only a link with a password takes a POST (405 otherwise). The page shows
 * nothing from the request.
 *
 * @example redirectRoute.post("/:slug", (c) => answerUnlock(c.req.raw, c.env, c.executionCtx, slug, path))
 */
export async function answerUnlock(
  req: Request,
  env: Env,
  ctx: Background,
  slug: string,
  path: string,
): Promise<Response> {
  try {
    const rt = runtimeFor(env);
    const site = await requestSite(rt, req, ctx);
    const link = await resolveLink(rt, ctx, site.domain, slug);
    const request = requestFacts(req, rt.config.countryHeader);
    const context = { now: Date.now(), forwardQueryByDefault: rt.config.forwardQueryByDefault };
    const input = { link, request, context, site, slug, path };
    const hash = link && !isTombstone(link) ? fromRecord.passwordHash(link) : null;
    if (link === null || hash === null) {
      if (link === null || isTombstone(link)) return await answerDecision(req, rt, ctx, input);
      throw new ProblemError(405, "method-not-allowed", "Method not allowed", {
        detail: "this link has no password to send",
        headers: { Allow: "GET, HEAD" },
      });
    }
    // An expired link is gone whatever the password: no attempt is counted or hashed.
    const expiresAt = fromRecord.expiresAt(link);
    if (expiresAt !== null && expiresAt <= context.now) return await answerDecision(req, rt, ctx, input);

    const ip = clientIp(req, rt.config.clientIpHeader) || "unknown";
    let limits: Array<Record<string, string> | null>;
    try {
      limits = await Promise.all([
        consumeLimit(env, "unlockIp", ip),
        consumeLimit(env, "unlockLink", String(fromRecord.id(link))),
      ]);
    } catch (err) {
      if (err instanceof ProblemError && err.status === 429) {
        return passwordAnswer(req, "too-many", 429, { "Retry-After": err.headers?.["Retry-After"] ?? "60" });
      }
      throw err;
    }
    // Unlike the API's limits, these fail closed: with Redis unreachable, guessing would be unlimited.
    if (limits.includes(null)) return passwordAnswer(req, "unavailable", 503, { "Retry-After": "30" });
    const password = new URLSearchParams(await req.text()).get("password") ?? "";
    if (!(await verifyPassword(password, hash))) return passwordAnswer(req, "wrong", 401);
    return await answerDecision(req, rt, ctx, { ...input, context: { ...context, unlocked: true } });
  } catch (err) {
    return problemAnswer(req, path, err);
  }
}
