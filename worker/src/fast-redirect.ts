import { isValidSlug } from "@shared/links/slug";
import type { Env } from "./env";
import { recordAnswer } from "./metrics";
import { answerRedirect } from "./redirect/answer";

/**
 * The slug of a `GET|HEAD /<slug>` request, or null for everything else (which Hono
 * routes). Reads the path straight from the URL string: `new URL()` and Hono's router
 * and middleware chain were a fifth of a redirect's CPU (docs/benchmarks.md).
 * Percent-encoded and reserved slugs fail `isValidSlug` and go to Hono.
 */
export function redirectSlug(method: string, url: string): string | null {
  if (method !== "GET" && method !== "HEAD") return null;
  const pathStart = url.indexOf("/", url.indexOf("://") + 3);
  if (pathStart === -1) return null;
  let end = url.length;
  for (let i = pathStart + 1; i < url.length; i++) {
    const ch = url.charCodeAt(i);
    if (ch === 0x3f /* ? */ || ch === 0x23 /* # */) {
      end = i;
      break;
    }
  }
  const slug = url.slice(pathStart + 1, end);
  return isValidSlug(slug) ? slug : null;
}

/**
 * A redirect without Hono: answerRedirect, counted and timed as the measure middleware
 * counts and times routed requests. A redirect the isolate answers from memory has no
 * promise at all (the handler may return a Response).
 */
export function fastPathRedirect(
  req: Request,
  env: Env,
  ctx: ExecutionContext,
  slug: string,
): Response | Promise<Response> {
  const start = performance.now();
  const res = answerRedirect(req, env, ctx, slug);
  return res instanceof Promise ? res.then((answered) => recorded(answered, start)) : recorded(res, start);
}

function recorded(res: Response, start: number): Response {
  recordAnswer("redirect", res.status, start);
  return res;
}
