/**
 * API key secrets: random, shown once, stored only as a SHA-256 hash with a short
 * display prefix. Shared by the worker and the `keys:create` command.
 */

export const KEY_PREFIX = "lk_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new secret: `lk_` + 32 base62 characters (≈190 bits of entropy). */
export function generateApiKey(): string {
  const bytes = new Uint8Array(64);
  let out = "";
  while (out.length < 32) {
    crypto.getRandomValues(bytes);
    for (const b of bytes) if (b < 248 && out.length < 32) out += ALPHABET[b % 62];
  }
  return KEY_PREFIX + out;
}

/** What the owner sees of a key after creation: enough to recognise it, useless to an attacker. */
export const displayPrefix = (secret: string): string => secret.slice(0, KEY_PREFIX.length + 6);

/** Hex SHA-256 of the secret: the only form in which a key is stored. */
export async function hashApiKey(secret: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
