import { locationFor } from "@shared/links/location";
import { withQuery } from "@shared/links/query";
import { fromRecord, isTombstone, type LinkRecord, type RedirectStatus } from "@shared/links/record";
import type { LinkPreview, RuleRecord } from "@shared/links/rules";
import type { RequestFacts } from "./request-facts";

/** What a redirect request gets; answer.ts turns it into a Response. */
export type RedirectDecision =
  | {
      kind: "redirect";
      linkId: number;
      location: string;
      status: RedirectStatus | 303;
      /** A GET, or a POST that unlocked a password link, is a click; a HEAD (link checkers, unfurlers) is not. */
      click: boolean;
      /** The click is already in the Redis counter (click-limited links), so the aggregator must not add it. */
      counted: boolean;
      /** The id of the rule that chose the target; null: the link's own target. */
      rule: string | null;
    }
  /** A known preview crawler asking for a link that has a preview: the Open Graph page, never the target. */
  | { kind: "preview"; linkId: number; preview: LinkPreview; click: boolean; counted: boolean }
  /** A password link not unlocked by this request: the password form, never the target. */
  | { kind: "password"; linkId: number }
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

/** What a decision needs besides the link and the request. */
export type DecisionContext = {
  /** Epoch milliseconds. */
  now: number;
  /** The deployment's FORWARD_QUERY, for links that do not say. */
  forwardQueryByDefault: boolean;
  /** This request (a POST of the form) gave the link's password: answer 303 and count a click. */
  unlocked?: boolean;
};

/**
 * The redirect's rules, with no I/O: the link record from the store (null when there is
 * none), the request, the context, and the click count once `count` asked for it.
 *
 * In order: tombstone (404), expiry (410), a preview crawler (the preview page), a password
 * not given (the form), the click limit (count first), then the first rule whose conditions
 * all hold chooses the target and may choose the status; else the link's own. The link's UTM
 * parameters and, when forwarded, the request's query are added to that target.
 * Reads request facts only where the link needs them, so a plain redirect reads only the
 * method; a rule's facts are read in the order time, country, device, language, query.
 */
export function decideRedirect(
  link: LinkRecord | null,
  request: RequestFacts,
  context: DecisionContext,
): RedirectDecision;
export function decideRedirect(
  link: LinkRecord | null,
  request: RequestFacts,
  context: DecisionContext,
  count: ClickCount,
): FinalDecision;
export function decideRedirect(
  link: LinkRecord | null,
  request: RequestFacts,
  context: DecisionContext,
  count?: ClickCount,
): RedirectDecision {
  if (!link || isTombstone(link)) return { kind: "not-found" };
  const { now } = context;
  const expiresAt = fromRecord.expiresAt(link);
  if (expiresAt !== null && expiresAt <= now) return { kind: "gone", reason: "expired" };

  const linkId = fromRecord.id(link);
  const preview = fromRecord.preview(link);
  // The preview is what the owner chose to show, never the target, so a password link may have one too.
  const forCrawler = preview !== null && request.method !== "POST" && request.previewCrawler;
  const unlocked = context.unlocked === true;
  const locked = fromRecord.passwordHash(link) !== null;
  if (!forCrawler && locked && !unlocked) return { kind: "password", linkId };

  // Only an unlock is a click of a password link: an unfurl in a chat must not use up its click limit.
  const click = (request.method === "GET" && !locked) || (unlocked && request.method === "POST");
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
  if (forCrawler) return { kind: "preview", linkId, preview, click, counted };

  const rule = firstMatchingRule(fromRecord.rules(link), request, now);
  let location = locationFor(rule ? rule.url : fromRecord.url(link));
  const utm = fromRecord.utm(link);
  if (utm) location = withQuery(location, utm);
  const search = (fromRecord.forwardQuery(link) ?? context.forwardQueryByDefault) ? request.search : "";
  if (search) location = withQuery(location, search);
  // 303: the browser follows with a GET and does not send the form again.
  const status = unlocked ? 303 : (rule?.status ?? fromRecord.statusCode(link));
  return { kind: "redirect", linkId, location, status, click, counted, rule: rule ? rule.id : null };
}

function firstMatchingRule(
  rules: readonly RuleRecord[],
  request: RequestFacts,
  now: number,
): RuleRecord | null {
  for (const rule of rules) if (ruleMatches(rule, request, now)) return rule;
  return null;
}

/** Every condition of the rule holds; the cheapest are checked first, and each fact is read only if asked. */
function ruleMatches(rule: RuleRecord, request: RequestFacts, now: number): boolean {
  if (rule.after !== undefined && now < rule.after) return false;
  if (rule.before !== undefined && now >= rule.before) return false;
  if (rule.country) {
    const country = request.country;
    if (country === null || !rule.country.includes(country)) return false;
  }
  if (rule.device && !rule.device.includes(request.device)) return false;
  if (rule.language && !rule.language.some((tag) => languageMatches(tag, request.languages[0]))) return false;
  if (rule.query) {
    const query = request.query;
    for (const [name, value] of rule.query) {
      if (value === null ? !query.has(name) : !query.getAll(name).includes(value)) return false;
    }
  }
  return true;
}

/**
 * Whether the visitor's first language is the rule's: the same tag, or a more specific one
 * (`de` matches `de-at`; `de-at` does not match `de` or `de-ch`). Only the first preference
 * counts: nearly every browser lists English somewhere, and a German reader who also accepts
 * English must not be sent to the English page by a rule listed first.
 */
function languageMatches(ruleTag: string, preferred: string | undefined): boolean {
  if (preferred === undefined) return false;
  return preferred === ruleTag || (preferred.startsWith(ruleTag) && preferred[ruleTag.length] === "-");
}
