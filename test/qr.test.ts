import { decode } from "fast-png";
import jsQR from "jsqr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "recorder" });
});
afterAll(() => stack?.close());

const slug = `qr-${crypto.randomUUID().slice(0, 8)}`;

/** What a phone would read from a grayscale or RGBA PNG. */
function readQr(bytes: ArrayBuffer): string | undefined {
  const png = decode(new Uint8Array(bytes));
  const rgba = new Uint8ClampedArray(png.width * png.height * 4);
  for (let i = 0; i < png.width * png.height; i++) {
    const v = png.data[i * png.channels] as number;
    rgba.set([v, v, v, 255], i * 4);
  }
  return jsQR(rgba, png.width, png.height)?.data;
}

describe("GET /api/v1/links/{slug}/qr", () => {
  beforeAll(async () => {
    expect((await stack.api("POST", "/links", { url: "https://example.com/qr", slug })).status).toBe(201);
  });

  it("a PNG decodes back to the link's short URL, at every error-correction level", async () => {
    for (const ecc of ["L", "M", "Q", "H"]) {
      const res = await stack.api("GET", `/links/${slug}/qr?format=png&size=300&ecc=${ecc}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      const bytes = await res.arrayBuffer();
      expect(readQr(bytes)).toBe(`${stack.origin}/${slug}`);
      const { width } = decode(new Uint8Array(bytes));
      expect(width).toBeLessThanOrEqual(300);
      expect(width).toBeGreaterThan(150);
    }
  });

  it("a higher error-correction level makes a denser code", async () => {
    const widthAt = async (ecc: string) => {
      const svg = await (await stack.api("GET", `/links/${slug}/qr?ecc=${ecc}&margin=0`)).text();
      return Number(/viewBox="0 0 (\d+) /.exec(svg)?.[1]);
    };
    expect(await widthAt("H")).toBeGreaterThan(await widthAt("L"));
  });

  it("is an SVG of the asked size by default", async () => {
    const res = await stack.api("GET", `/links/${slug}/qr?size=256`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(res.headers.get("x-short-url")).toBe(`${stack.origin}/${slug}`);
    const svg = await res.text();
    expect(svg).toMatch(/^<svg [^>]*width="256" height="256"/);
    expect(svg).toContain("<path");
  });

  it.each([
    ["format=gif", "format"],
    ["size=10", "size"],
    ["size=99999", "size"],
    ["ecc=X", "ecc"],
    ["margin=-1", "margin"],
  ])("refuses %s with a 400 naming the field", async (query, field) => {
    const res = await stack.api("GET", `/links/${slug}/qr?${query}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toContain(field);
  });

  it("is 404 for an unknown link and 401 without a key", async () => {
    expect((await stack.api("GET", "/links/no-such-link-qr/qr")).status).toBe(404);
    expect((await stack.fetch(`/api/v1/links/${slug}/qr`)).status).toBe(401);
  });

  it("another owner's key cannot get the code of this owner's link", async () => {
    const res = await stack.api("POST", "/keys", {
      name: "other",
      scopes: ["links:read"],
      ownerId: "qr-other",
    });
    const { key } = (await res.json()) as { key: string };
    const other = await stack.api("GET", `/links/${slug}/qr`, undefined, { Authorization: `Bearer ${key}` });
    expect(other.status).toBe(404);
  });
});
