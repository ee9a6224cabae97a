/** Slug rules shared by create, update and redirect. */

export const SLUG_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const SLUG_MAX_LENGTH = 64;

/**
 * First path segments that belong to the service itself and can never be slugs.
 * Compared case-insensitively so that `/API` cannot shadow the API in a case-folding proxy.
 */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  "api",
  "health",
  "ready",
  "metrics",
  "openapi.json",
  "openapi",
  "docs",
  "admin",
  "dashboard",
  "static",
  "assets",
  "favicon.ico",
  "robots.txt",
  "well-known",
  ".well-known",
]);

export const isReservedSlug = (slug: string): boolean => RESERVED_SLUGS.has(slug.toLowerCase());

/** True when `slug` could name a link: the pattern and not reserved. */
export const isValidSlug = (slug: string): boolean => SLUG_PATTERN.test(slug) && !isReservedSlug(slug);

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * A random slug of `length` base62 characters (62^7 ≈ 3.5e12 for the default).
 * Rejection sampling keeps the distribution uniform.
 */
export function randomSlug(length = 7): string {
  let out = "";
  const bytes = new Uint8Array(length * 2);
  while (out.length < length) {
    crypto.getRandomValues(bytes);
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}
