import type { ClickEvent } from "@shared/events";
import { visitorHash } from "@shared/visitor";

/** The request facts a click event is made of, read on the redirect path without parsing. */
export type ClickFacts = {
  /** The load balancer's request id when trusted: its retries of one request then share one event id. */
  requestId: string | null;
  linkId: number;
  /** The link's stored domain ("" for the default domain). */
  domain: string;
  slug: string;
  ts: number;
  ip: string;
  country: string | null;
  referrer: string | null;
  userAgent: string | null;
  /** The edge already incremented the Redis counter (click-limited links). */
  counted: boolean;
  /** The redirect rule that chose the target, null for the link's own. */
  rule: string | null;
};

/** Shapes the queued event. */
export function buildClickEvent(facts: ClickFacts, salt: string): ClickEvent {
  return {
    id: (facts.requestId && uuidFromRequestId(facts.requestId)) || crypto.randomUUID(),
    linkId: facts.linkId,
    domain: facts.domain,
    slug: facts.slug,
    ts: facts.ts,
    country: facts.country && facts.country.length === 2 ? facts.country : null,
    referrer: facts.referrer ? facts.referrer.slice(0, 2048) : null,
    userAgent: facts.userAgent ? facts.userAgent.slice(0, 1024) : null,
    visitor: visitorHash(salt, facts.ip, facts.userAgent ?? "", facts.ts),
    counted: facts.counted,
    // Left out (undefined) for the link's own target: nothing added to a plain click's message.
    rule: facts.rule ?? undefined,
  };
}

/**
 * The client IP from the one header the deployment trusts, "" without one: any other header
 * may have been written by the client. That header is CLIENT_IP_HEADER when set; else, for a
 * request that came through Cloudflare's edge (it has `request.cf`, which plain workerd never
 * sets), Cloudflare's own CF-Connecting-IP, which the edge overwrites; else none. In a list
 * (X-Forwarded-For) the last entry is the one the trusted proxy added; earlier ones came with
 * the request.
 */
export function clientIp(req: Request, configured: string | null): string {
  const header = configured ?? (req.cf ? "cf-connecting-ip" : null);
  const value = header ? (req.headers.get(header) ?? "") : "";
  return value.slice(value.lastIndexOf(",") + 1).trim();
}

/** Cloudflare's own geolocation, else the header the deployment trusts (COUNTRY_HEADER), else none. */
export function clientCountry(req: Request, trustedHeader: string | null): string | null {
  const country = req.cf?.country as string | undefined;
  if (country) return country;
  return trustedHeader ? req.headers.get(trustedHeader) : null;
}

/**
 * nginx's `$request_id` (32 random hex digits) as a UUID. nginx keeps it across
 * `proxy_next_upstream` retries, so when a replica dies after queueing a click but
 * before answering, the retry on another replica queues the same id, and the
 * aggregator counts the click once.
 */
export function uuidFromRequestId(id: string): string | null {
  if (!/^[0-9a-f]{32}$/.test(id)) return null;
  // Stamp the version-4 and RFC 4122 variant bits so the id is a valid UUID (the schema checks them).
  const variant = ((Number.parseInt(id[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-${variant}${id.slice(17, 20)}-${id.slice(20)}`;
}
