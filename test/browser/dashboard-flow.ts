import { readFile } from "node:fs/promises";
import { decode } from "fast-png";
import jsQR from "jsqr";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { TARGET_HOST } from "./chromium";

/**
 * The steps a person takes in the dashboard, shared by the test against the dev stack and the one against
 * `npm run selfhost` behind nginx. Every step finds things by role and label, as a screen reader would.
 */

/** Where the test's link targets live: a local server Chromium resolves this host to (chromium.ts). */
export const TARGET_ORIGIN = `http://${TARGET_HOST}`;

export async function signIn(page: Page, origin: string, secret: string) {
  await page.goto(`${origin}/dashboard/`);
  await page.getByLabel("API key or admin token").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API key or admin token").waitFor();
}

/** Fills the new-link form and submits it; resolves on the link's own page, with its short URL. */
export async function createLink(page: Page, fields: { url: string; slug: string; tags?: string }) {
  await page.getByRole("link", { name: "New link", exact: true }).first().click();
  await fillAndSubmitNew(page, fields);
  await page.getByRole("heading", { level: 1, name: fields.slug }).waitFor();
  return (await page.getByTestId("short-url").textContent()) ?? "";
}

export async function fillAndSubmitNew(page: Page, fields: { url: string; slug: string; tags?: string }) {
  await page.getByLabel("Target URL").fill(fields.url);
  await page.getByLabel("Slug").fill(fields.slug);
  if (fields.tags !== undefined) await page.getByLabel("Tags").fill(fields.tags);
  await page.getByRole("button", { name: "Create link" }).click();
}

/** Follows `shortUrl` in a new tab of the same browser, as a visitor; resolves with where it landed. */
export async function follow(page: Page, shortUrl: string): Promise<string> {
  const visitor = await page.context().newPage();
  try {
    await visitor.goto(shortUrl);
    return visitor.url();
  } finally {
    await visitor.close();
  }
}

/** Presses Refresh in the stats until the Clicks card shows `clicks` (the aggregator commits in batches). */
export async function waitForClicks(page: Page, clicks: number, timeoutMs = 60_000) {
  const card = page.locator(".stats .card", { hasText: /^Clicks/ }).locator("dd");
  const deadline = Date.now() + timeoutMs;
  while ((await card.textContent()) !== String(clicks)) {
    if (Date.now() > deadline) throw new Error(`the stats never showed ${clicks} clicks`);
    await page.waitForTimeout(500);
    await page.getByRole("button", { name: "Refresh" }).click();
  }
}

/** The click counts of the chart's series, read from the table that carries the same numbers. */
export async function seriesTotal(page: Page): Promise<number> {
  const cells = await page.getByTestId("series").locator("tbody td.num").allTextContents();
  return cells.reduce((sum, cell) => sum + Number(cell), 0);
}

const QR_PIXELS = 400;

/** The QR code the link page shows, decoded from its rendering in the browser. */
export async function readShownQr(page: Page): Promise<string | undefined> {
  const img = page.getByRole("img", { name: /QR code of the short URL/ });
  await img.waitFor();
  await expect
    .poll(() =>
      page.evaluate(
        `(() => { const i = document.querySelector(".qr img"); return i.complete && i.naturalWidth > 0; })()`,
      ),
    )
    .toBe(true);
  // Run in the page (a string: this file is type-checked without the DOM's types).
  const pixels = (await page.evaluate(`(() => {
    const image = document.querySelector(".qr img");
    const canvas = document.createElement("canvas");
    canvas.width = ${QR_PIXELS};
    canvas.height = ${QR_PIXELS};
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, ${QR_PIXELS}, ${QR_PIXELS});
    ctx.drawImage(image, 0, 0, ${QR_PIXELS}, ${QR_PIXELS});
    return Array.from(ctx.getImageData(0, 0, ${QR_PIXELS}, ${QR_PIXELS}).data);
  })()`)) as number[];
  return jsQR(Uint8ClampedArray.from(pixels), QR_PIXELS, QR_PIXELS)?.data;
}

/** What a phone would read from a grayscale or RGBA PNG (a downloaded QR code). */
export function readPngQr(bytes: Uint8Array): string | undefined {
  const png = decode(bytes);
  const rgba = new Uint8ClampedArray(png.width * png.height * 4);
  for (let i = 0; i < png.width * png.height; i++) {
    const v = png.data[i * png.channels] as number;
    rgba.set([v, v, v, 255], i * 4);
  }
  return jsQR(rgba, png.width, png.height)?.data;
}

/** Clicks `button` and resolves with the file it downloads: its suggested name and its bytes. */
export async function downloadOf(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: button }).click(),
  ]);
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: await readFile(path) };
}
