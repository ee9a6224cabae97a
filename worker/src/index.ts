import { createApp } from "./app";
import type { Env } from "./env";
import { fastPathRedirect, redirectSlug } from "./fast-redirect";

const app = createApp();

export default {
  fetch(req, env, ctx) {
    // Redirects, the hot path, skip the router; everything else is Hono's.
    const slug = redirectSlug(req.method, req.url);
    return slug === null ? app.fetch(req, env, ctx) : fastPathRedirect(req, env, ctx, slug);
  },
} satisfies ExportedHandler<Env>;
