import { locationFor } from "@shared/links/location";
import { fromRecord, isTombstone, type LinkRecord, type RedirectStatus } from "@shared/links/record";
import type { RequestFacts } from "./request-facts";

/** What a redirect request gets; answer.ts turns it into a Response. */
type RedirectDecision =
  | {
      kind: "redirect";
      linkId: number;
      location: string;
      status: RedirectStatus;
      /** A GET is a click; a HEAD (link checkers, unfurlers) is not. */
      click: boolean;
      /** The click is already in the Redis counter (click-limited links), so the aggregator must not add it. */
      counted: boolean;
    }
  | { kind: "not-found" }
  | { kind: "gone"; reason: "expired" | "click-limit" }
  /** A click limit is decided by the counter: count, then decide again with the count. */
  | { kind: "count"; linkId: number; increment: boolean };

/** A decision once the count is known: no further I/O to ask for. */
export type FinalDecision = Exclude<RedirectDecision, { kind: "count" }>;

/**
 * What the click counter answered: the count including this click (after an increment)
 * or the clicks so far (a read, for HEAD); null when Redis could not answer in time.
 */
export type ClickCount = { clicks: number | null };

/**
 * The redirect's rules, with no I/O: the link record from the store (null when there is
 * none), the request, the time, and the click count once `count` asked for it.
 * Reads request facts only where a rule needs them, so a plain redirect reads only the
 * method; redirect rules and password links (issue #17) decide here.
 */
export function decideRedirect(link: LinkRecord | null, request: RequestFacts, now: number): RedirectDecision;
export function decideRedirect(
  link: LinkRecord | null,
  request: RequestFacts,
  now: number,
  count: ClickCount,
): FinalDecision;
export function decideRedirect(
  link: LinkRecord | null,
  request: RequestFacts,
  now: number,
  count?: ClickCount,
): RedirectDecision {
  if (!link || isTombstone(link)) return { kind: "not-found" };
  const expiresAt = fromRecord.expiresAt(link);
  if (expiresAt !== null && expiresAt <= now) return { kind: "gone", reason: "expired" };

  const linkId = fromRecord.id(link);
  const click = request.method === "GET";
  let counted = false;
  const maxClicks = fromRecord.maxClicks(link);
  if (maxClicks !== null) {
    if (!count) return { kind: "count", linkId, increment: click };
    // Fails open without a count: a limit is approximate under faults, a dead link is not acceptable.
    if (count.clicks !== null) {
      // An increment includes this click; a HEAD's read does not, so it is refused at equality.
      if (click ? count.clicks > maxClicks : count.clicks >= maxClicks)
        return { kind: "gone", reason: "click-limit" };
      counted = click;
    }
  }
  const location = locationFor(fromRecord.url(link));
  return { kind: "redirect", linkId, location, status: fromRecord.statusCode(link), click, counted };
}
