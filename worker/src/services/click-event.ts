import type { ClickEvent } from "@shared/events";
import { visitorHash } from "@shared/visitor";

/** The request facts a click event is made of, read on the redirect path without parsing. */
export type ClickFacts = {
  linkId: number;
  slug: string;
  ts: number;
  ip: string;
  country: string | null;
  referrer: string | null;
  userAgent: string | null;
};

/** Shapes the queued event; runs in waitUntil because hashing is async. */
export async function buildClickEvent(facts: ClickFacts, salt: string): Promise<ClickEvent> {
  return {
    id: crypto.randomUUID(),
    linkId: facts.linkId,
    slug: facts.slug,
    ts: facts.ts,
    country: facts.country && facts.country.length === 2 ? facts.country : null,
    referrer: facts.referrer ? facts.referrer.slice(0, 2048) : null,
    userAgent: facts.userAgent ? facts.userAgent.slice(0, 1024) : null,
    visitor: await visitorHash(salt, facts.ip, facts.userAgent ?? "", facts.ts),
  };
}

/** The client IP: Cloudflare's header at the edge, nginx's in self-host. */
export function clientIp(headers: Headers): string {
  return (
    headers.get("cf-connecting-ip") ??
    headers.get("x-real-ip") ??
    headers.get("x-forwarded-for")?.split(",")[0]?.trim() ??
    ""
  );
}
