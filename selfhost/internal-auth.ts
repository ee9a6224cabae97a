/**
 * The per-deployment secret every internal service of the self-hosted cluster requires
 * (KV service, queue broker, WebSocket proxy, runner control port, shipper metrics).
 * Callers send `Authorization: Bearer <token>`; workerd's bindings get the header from
 * `injectRequestHeaders` in their config (selfhost/workerd-config.ts).
 *
 * @example
 *   const authorized = bearerCheck(opts.token, "kv service");   // throws without a token
 *   if (!authorized(req)) return void res.writeHead(401).end();
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Compares in time independent of where the two differ: timingSafeEqual needs equal
 * lengths, and comparing digests also hides the token's length.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Throws unless `token` is set: an internal service never starts open. */
export function requireToken(token: string | undefined, service: string): string {
  if (!token) throw new Error(`${service}: a token is required (INTERNAL_TOKEN)`);
  return token;
}

/** A check of `Authorization: Bearer <token>` on incoming requests. */
export function bearerCheck(token: string | undefined, service: string): (req: IncomingMessage) => boolean {
  const expected = requireToken(token, service);
  return (req) => {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    return Boolean(match?.[1] && tokensEqual(match[1], expected));
  };
}

/** The header value a client of an internal service sends. */
export const bearer = (token: string): string => `Bearer ${token}`;
