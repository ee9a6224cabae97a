import { createRoute } from "@hono/zod-openapi";
import { requireScope } from "../middleware/auth";
import { SlugParamSchema } from "../schemas/link";
import { QrQuerySchema } from "../schemas/qr";
import { toApiLink } from "../services/links";
import { qrPng, qrSvg } from "../services/qr";
import { services, shortUrlBase } from "./links";
import { openApiApp } from "./openapi-app";
import { authErrors, problem, security } from "./openapi-docs";

/**
 * `GET /api/v1/links/{slug}/qr`: the QR code of a link's short URL, as SVG or PNG. The dashboard shows and
 * downloads the same images.
 *
 * @example api.route("/", qr)
 */
export const qr = openApiApp();

qr.openapi(
  createRoute({
    method: "get",
    path: "/links/{slug}/qr",
    summary: "QR code of a link's short URL (SVG or PNG)",
    security,
    middleware: requireScope("links:read"),
    request: { params: SlugParamSchema, query: QrQuerySchema },
    responses: {
      200: {
        description: "The QR code",
        content: {
          "image/svg+xml": { schema: { type: "string" } },
          "image/png": { schema: { type: "string", format: "binary" } },
        },
      },
      400: problem("Invalid input"),
      ...authErrors,
      404: problem("No such link"),
    },
  }),
  async (c) => {
    const opts = c.req.valid("query");
    const svc = services(c);
    const link = await svc.links.get(
      await svc.domains.storedDomain(opts.domain, "existing-links"),
      c.req.valid("param").slug,
    );
    const { shortUrl } = toApiLink(link, shortUrlBase(c));
    // Private: the image names a link of this owner; it changes only if the link is deleted.
    const headers = { "Cache-Control": "private, max-age=300", "X-Short-Url": shortUrl };
    if (opts.format === "png") {
      return c.body((await qrPng(shortUrl, opts)) as Uint8Array<ArrayBuffer>, 200, {
        ...headers,
        "Content-Type": "image/png",
      });
    }
    return c.body(await qrSvg(shortUrl, opts), 200, { ...headers, "Content-Type": "image/svg+xml" });
  },
);
