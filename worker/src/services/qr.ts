import type { QrOptions } from "../schemas/qr";

/**
 * QR codes of short URLs: uqr encodes (no hand-written QR), fast-png writes the PNG. Both are loaded on the
 * first QR request only (`import()`), so an isolate that only redirects never runs their module code.
 */

/** The QR code of `text` as an SVG image of `size` × `size` pixels. */
export async function qrSvg(text: string, opts: QrOptions): Promise<string> {
  const { renderSVG } = await import("uqr");
  const svg = renderSVG(text, { ecc: opts.ecc, border: opts.margin, pixelSize: 1 });
  return svg.replace(
    "<svg ",
    `<svg width="${opts.size}" height="${opts.size}" shape-rendering="crispEdges" `,
  );
}

/**
 * The QR code of `text` as a grayscale PNG of whole pixels per module: the largest module size that fits
 * `size` (at least 1), so the image is at most `size` wide unless the code needs more than `size` modules.
 */
export async function qrPng(text: string, opts: QrOptions): Promise<Uint8Array> {
  const [{ encode }, png] = await Promise.all([import("uqr"), import("fast-png")]);
  const { data, size: modules } = encode(text, { ecc: opts.ecc, border: opts.margin });
  const scale = Math.max(1, Math.floor(opts.size / modules));
  const width = modules * scale;
  const pixels = new Uint8Array(width * width).fill(255);
  for (let y = 0; y < modules; y++) {
    const row = data[y] as boolean[];
    for (let x = 0; x < modules; x++) {
      if (!row[x]) continue;
      for (let dy = 0; dy < scale; dy++)
        pixels.fill(0, (y * scale + dy) * width + x * scale, (y * scale + dy) * width + (x + 1) * scale);
    }
  }
  return png.encode({ width, height: width, data: pixels, channels: 1, depth: 8 });
}
