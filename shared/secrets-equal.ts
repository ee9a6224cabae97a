/**
 * Compares two secrets in time independent of where they differ, for both workers.
 * Comparing SHA-256 digests makes the lengths equal (and hides the secret's length);
 * the loop then XORs every byte instead of stopping at the first difference. Written by
 * hand because the standard WebCrypto has no timing-safe compare (only Cloudflare's
 * runtime adds one), and this also runs under Node in tests.
 */
const enc = new TextEncoder();

export async function secretsEqual(a: string, b: string): Promise<boolean> {
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

/**
 * The secret a request presents: the token of `Authorization: Bearer <token>`, or null. With `apiKey`,
 * also `X-Api-Key: <key>` (trimmed), read only when no Authorization header is sent: a malformed
 * Authorization is not rescued by an X-Api-Key beside it.
 */
export function presentedSecret(headers: Headers, { apiKey = false } = {}): string | null {
  const authorization = headers.get("authorization");
  if (authorization || !apiKey) return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1] ?? null;
  return headers.get("x-api-key")?.trim() || null;
}

/**
 * True when the request presents `expected` (see `presentedSecret`; `apiKey` as there); false when either
 * is missing. The one check behind every static secret: METRICS_TOKEN and QUEUE_PUSH_TOKEN on the
 * aggregator (bearer only), ADMIN_TOKEN and METRICS_TOKEN on the edge's health and metrics routes.
 */
export async function hasSecret(
  headers: Headers,
  expected: string | null | undefined,
  { apiKey = false } = {},
): Promise<boolean> {
  const presented = presentedSecret(headers, { apiKey });
  return Boolean(expected && presented && (await secretsEqual(presented, expected)));
}
