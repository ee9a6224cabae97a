/**
 * Link passwords: PBKDF2-SHA256 through Web Crypto, the strongest KDF workerd offers
 * (scrypt and Argon2 are not in Web Crypto; a JavaScript Argon2 would cost far more CPU per
 * attempt at the same strength). Stored as `pbkdf2-sha256$<iterations>$<salt>$<hash>`
 * (base64url), so the count can be raised later without breaking stored hashes.
 *
 * Iterations: 100,000, the most workerd accepts (it refuses more). One attempt costs about
 * 20 ms of CPU (docs/decisions.md, "Password links"); guessing is bounded by the per-IP and
 * per-link rate limits before any hash is computed.
 */

export const PASSWORD_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BITS = 256;

/** A new salted hash of `password`. */
export async function hashPassword(password: string, iterations = PASSWORD_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

/** Whether `password` is the one `stored` was made from; false for a hash this code cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, count, salt, hash] = stored.split("$");
  const iterations = /^[1-9]\d{0,5}$/.test(count ?? "") ? Number(count) : 0;
  if (scheme !== "pbkdf2-sha256" || !salt || !hash) return false;
  if (iterations < 1 || iterations > PASSWORD_ITERATIONS) return false;
  const expected = fromBase64url(hash);
  const actual = await derive(password, fromBase64url(salt), iterations);
  return constantTimeEqual(actual, expected);
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    HASH_BITS,
  );
  return new Uint8Array(bits);
}

/** Compares every byte whatever differs, so the time taken says nothing about where. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

function fromBase64url(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (ch) => ch.charCodeAt(0));
  } catch {
    return new Uint8Array(0);
  }
}
