import { OpenAPIHono } from "@hono/zod-openapi";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./env";
import { bodyLimit } from "./middleware/body-limit";
import { corsFromConfig } from "./middleware/cors";
import { database } from "./middleware/database";
import { onError, onNotFound } from "./middleware/errors";
import { measure } from "./middleware/measure";
import { queryText } from "./middleware/query-text";
import { rateLimit } from "./middleware/rate-limit";
import { dashboard } from "./routes/dashboard";
import { domainRoutes } from "./routes/domains";
import { health } from "./routes/health";
import { keys } from "./routes/keys";
import { links } from "./routes/links";
import { me } from "./routes/me";
import { qr } from "./routes/qr";
import { redirectRoute } from "./routes/redirect";
import { stats } from "./routes/stats";

/** Enough for a bulk request of 100 links with long URLs; anything larger is refused before parsing. */
const MAX_BODY_BYTES = 512 * 1024;
/** Refused bodies up to this size are read to their end, so the client gets the 413 and no reset. */
const DRAIN_BODY_BYTES = 8 * MAX_BODY_BYTES;

/** The whole URL map of the edge worker. */
export function createApp() {
  const api = new OpenAPIHono<AppEnv>();
  api.use("*", secureHeaders({ crossOriginResourcePolicy: "cross-origin" }));
  api.use("*", corsFromConfig());
  api.use("*", bodyLimit(MAX_BODY_BYTES, DRAIN_BODY_BYTES));
  api.use("*", queryText());
  api.use("*", database());
  api.use("*", rateLimit("api"));
  api.use("/keys/*", rateLimit("strict"));
  // Stats first: its /links/{slug}/stats must not fall into the links group's scope check.
  api.route("/", stats);
  api.route("/", qr);
  api.route("/links", links);
  api.route("/keys", keys);
  api.route("/me", me);
  api.route("/domains", domainRoutes);

  const app = new OpenAPIHono<AppEnv>();
  app.use("*", measure());
  app.route("/", health);
  app.route("/api/v1", api);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Edge redirect API", version: "1.0.0" },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-Api-Key",
  });
  app.route("/", dashboard);
  // Last: any single segment not matched above is a slug.
  app.route("/", redirectRoute);
  app.onError(onError);
  app.notFound(onNotFound);
  return app;
}
