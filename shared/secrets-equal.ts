/**
 * Compares two secrets in time independent of where they differ, for both workers.
 * Comparing SHA-256 digests makes the lengths equal (and hides the secret's length);
 * the loop then XORs every byte instead of stopping at the first difference. Written by
 * hand because the standard WebCrypto has no timing-safe compare (only Cloudflare's
 * runtime adds one), and this also runs under Node in tests.
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(authorization: string | null): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1] ?? null;
}

/** True when `authorization` carries `expected` as its bearer token; false when either is missing. */
export async function hasBearer(
  authorization: string | null,
  expected: string | undefined,
): Promise<boolean> {
  const presented = bearerToken(authorization);
  return Boolean(expected && presented && (await secretsEqual(presented, expected)));
}
