import { z } from "@hono/zod-openapi";
import { LinkDomainSchema } from "./domain";

/** Query of `GET /api/v1/links/{slug}/qr`. */
export const QrQuerySchema = z.object({
  format: z.enum(["svg", "png"]).default("svg").openapi({ example: "svg" }),
  size: z.coerce.number().int().min(64).max(2048).default(512).openapi({
    description: "Width and height in pixels (a PNG uses whole pixels per module)",
    example: 512,
  }),
  ecc: z
    .enum(["L", "M", "Q", "H"])
    .default("M")
    .openapi({ description: "Error correction: L 7%, M 15%, Q 25%, H 30% of the code may be lost" }),
  margin: z.coerce
    .number()
    .int()
    .min(0)
    .max(16)
    .default(4)
    .openapi({ description: "Quiet zone in modules (4 is the standard's minimum for reliable scanning)" }),
  domain: LinkDomainSchema,
});

export type QrOptions = z.output<typeof QrQuerySchema>;
