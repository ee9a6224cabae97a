import { isValidSlug } from "@shared/links/slug";
import type { Env } from "./env";
import { recordAnswer } from "./metrics";
import { errorResponse } from "./problem-response";
import { serveRedirect } from "./routes/redirect";

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
 * A redirect without Hono: the same handler, error rendering and metrics as the routed
 * one (measure middleware, onError), in fewer steps.
 */
export async function answerRedirect(
  req: Request,
  env: Env,
  ctx: ExecutionContext,
  slug: string,
): Promise<Response> {
  const start = performance.now();
  let res: Response;
  try {
    res = await serveRedirect(req, env, ctx, slug);
  } catch (err) {
    res = errorResponse(err, req.method, `/${slug}`);
    // As Hono does for HEAD: the status and headers of GET, no body.
    if (req.method === "HEAD") res = new Response(null, res);
  }
  recordAnswer("redirect", res.status, start);
  return res;
}
