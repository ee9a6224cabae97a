/**
 * Redirect rules, previews and UTM parameters as a link stores them: the API's shape, kept
 * as is in Postgres (jsonb), and the shapes the edge record carries (./record.ts builds them).
 */

export const DEVICES = ["ios", "android", "desktop"] as const;
export type Device = (typeof DEVICES)[number];

/** At most this many rules per link: every redirect of the link may evaluate each of them. */
export const MAX_RULES = 20;

/**
 * At most this many characters of rules, as JSON: they ride in every KV record and isolate
 * cache entry of the link (up to 10,000 a cache), and each field's own limit would allow ~300 KB.
 * Twenty rules with 700-character targets fit.
 */
export const MAX_RULES_JSON_LENGTH = 16 * 1024;

/** A rule as the API takes and returns it and Postgres stores it; times are ISO 8601 strings. */
export type LinkRule = {
  /** Stable across edits and reorders; the click event and the `rules` breakdown name it. */
  id: string;
  /** Every condition given must hold; at least one is given. */
  when: {
    country?: string[];
    device?: Device[];
    language?: string[];
    query?: Array<{ name: string; value?: string }>;
    after?: string;
    before?: string;
  };
  url: string;
  statusCode?: 301 | 302 | 307 | 308;
};

/**
 * A rule in the edge record: conditions flattened, times as epoch milliseconds, languages
 * lower-case, query conditions as [name, value or null for "present"].
 */
export type RuleRecord = {
  id: string;
  url: string;
  status?: 301 | 302 | 307 | 308;
  country?: string[];
  device?: Device[];
  language?: string[];
  query?: Array<[string, string | null]>;
  after?: number;
  before?: number;
};

export function toRuleRecord(rule: LinkRule): RuleRecord {
  const { when } = rule;
  const record: RuleRecord = { id: rule.id, url: rule.url };
  if (rule.statusCode !== undefined) record.status = rule.statusCode;
  if (when.country) record.country = when.country;
  if (when.device) record.device = when.device;
  if (when.language) record.language = when.language.map((tag) => tag.toLowerCase());
  if (when.query) record.query = when.query.map((q) => [q.name, q.value ?? null]);
  if (when.after) record.after = Date.parse(when.after);
  if (when.before) record.before = Date.parse(when.before);
  return record;
}

/** What a link looks like when pasted into a chat or a social network (Open Graph, Twitter card). */
export type LinkPreview = { title?: string; description?: string; image?: string };

export const UTM_FIELDS = ["source", "medium", "campaign", "term", "content"] as const;
export type Utm = Partial<Record<(typeof UTM_FIELDS)[number], string>>;

/** The link's UTM fields as a query string (`utm_source=…&…`, percent-encoded), "" for none. */
export function utmQuery(utm: Utm | null): string {
  if (!utm) return "";
  const pairs: string[] = [];
  for (const field of UTM_FIELDS) {
    const value = utm[field];
    if (value !== undefined) pairs.push(`utm_${field}=${encodeURIComponent(value)}`);
  }
  return pairs.join("&");
}
