/**
 * API keys: their scopes, the reserved admin owner, and their secrets (random, shown once, stored only as a
 * SHA-256 hash with a short display prefix). Shared by the worker and the `keys:create` command.
 */

export const SCOPES = ["links:read", "links:write", "stats:read", "keys:admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Owner of everything created with the bootstrap ADMIN_TOKEN. */
export const ADMIN_OWNER = "admin";

/** No key may be given the admin token's owner: it would read and change the admin's links. */
export const isReservedOwner = (ownerId: string): boolean => ownerId.toLowerCase() === ADMIN_OWNER;

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
