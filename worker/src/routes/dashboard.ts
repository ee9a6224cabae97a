import { isTombstone } from "@shared/links/record";
import { notFound } from "@shared/problem";
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { bodyLimit } from "../middleware/body-limit";
import { answerRedirect, hostOf } from "../redirect/answer";
import { answerUnlock, UNLOCK_BODY_MAX_BYTES } from "../redirect/unlock";
import { runtimeFor } from "../runtime";
import { resolveLink } from "../services/resolve-link";

/**
 * The dashboard (`/dashboard/`) and the API reference (`/docs/`): files built by `dashboard/build.ts`, read
 * through the ASSETS binding (Workers static assets on Cloudflare; a workerd disk service self-hosted), sent
 * with this worker's own headers so both runtimes answer alike. A redirect never comes here: the fast path
 * takes every valid slug first, and none of these paths is one.
 *
 * @example app.route("/", dashboard)
 */
export const dashboard = new Hono<AppEnv>();

/** No inline script anywhere; the page talks only to this origin and is never framed. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Swagger UI sets style attributes in its markup; still no inline script and nothing from elsewhere. */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
};

/** One file name, no folders, no dot files: nothing outside the two folders can be asked for. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
/** Built names carry a content hash (`main-3FJX2K7A.js`) and may be cached for good. */
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;

async function serveAsset(
  c: { env: AppEnv["Bindings"]; req: { url: string } },
  folder: "dashboard" | "docs",
  name: string,
) {
  const assets = c.env.ASSETS;
  if (!assets || !FILE_NAME.test(name)) throw notFound("no such file");
  const type = TYPES[name.slice(name.lastIndexOf(".") + 1)];
  if (!type) throw notFound("no such file");
  const res = await assets.fetch(new URL(`/${folder}/${name}`, c.req.url).href);
  if (res.status !== 200) {
    await res.body?.cancel();
    throw notFound("no such file");
  }
  return new Response(res.body, {
    headers: {
      "Content-Type": type,
      "Cache-Control": HASHED.test(name) ? "public, max-age=31536000, immutable" : "no-cache",
      "Content-Security-Policy": folder === "docs" ? DOCS_CSP : DASHBOARD_CSP,
      "X-Frame-Options": "DENY",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cross-Origin-Opener-Policy": "same-origin",
    },
  });
}

dashboard.get("/dashboard/", (c) => serveAsset(c, "dashboard", "index.html"));
dashboard.get("/dashboard/:file", (c) => serveAsset(c, "dashboard", c.req.param("file")));
dashboard.get("/docs/", (c) => serveAsset(c, "docs", "index.html"));
dashboard.get("/docs/:file", (c) => serveAsset(c, "docs", c.req.param("file")));
dashboard.get("/docs", (c) => c.redirect("/docs/", 308));

/**
 * `/dashboard` without the slash, in any letter case (the reservation ignores case, slugs do not): a link stored
 * on that word before it was reserved keeps redirecting here, and a password link's form still posts here (the
 * start-up repair and `npm run links:reserved` report such links); otherwise on to the dashboard. Only a stored
 * record counts: a domain's not-found redirect, or a store that cannot answer, is no such link.
 */
const LEGACY = "/:slug{[Dd][Aa][Ss][Hh][Bb][Oo][Aa][Rr][Dd]}";

dashboard.get(LEGACY, async (c) => {
  const slug = c.req.param("slug");
  const rt = runtimeFor(c.env);
  const site = await rt.domains.site(hostOf(c.req.url), c.executionCtx);
  const legacy = site && (await resolveLink(rt, c.executionCtx, site.domain, slug).catch(() => null));
  // A deleted link's tombstone is no link: the word goes back to the dashboard.
  if (legacy && !isTombstone(legacy))
    return answerRedirect(c.req.raw, c.env, c.executionCtx, slug, c.req.path);
  return c.redirect("/dashboard/", 308);
});
dashboard.post(LEGACY, bodyLimit(UNLOCK_BODY_MAX_BYTES, 4 * UNLOCK_BODY_MAX_BYTES), (c) =>
  answerUnlock(c.req.raw, c.env, c.executionCtx, c.req.param("slug"), c.req.path),
);
