import { type Link, links } from "../db/schema";
import { type LinkPreview, type RuleRecord, toRuleRecord, utmQuery } from "./rules";

/**
 * The compact record the edge reads from KV under `link:{slug}`: only what a redirect
 * needs, with a format version so that a rolling deploy can read old and new records.
 * One-letter fields keep every KV value and isolate cache entry small; only this module
 * knows them: a record is made by `toLinkRecord` and `tombstone`, and read through
 * `fromRecord` and `isTombstone`.
 */
export type LinkRecord = {
  /** Format version. */
  v: 1;
  /** Link id in Postgres (click events refer to it). */
  id: number;
  /** Target URL. */
  u: string;
  /** Status code; omitted for the default 302. */
  s?: RedirectStatus;
  /** Expiry, epoch milliseconds. */
  e?: number;
  /** Click limit. */
  m?: number;
  /** Set on a tombstone left by a delete, so the edge answers 404 without asking Postgres. */
  d?: 1;
  /** Redirect rules, in order; omitted when none. */
  r?: RuleRecord[];
  /** Password hash (services/link-password.ts); the API never returns it, KV is internal. */
  p?: string;
  /** Social preview, served to known preview crawlers. */
  g?: LinkPreview;
  /** Forward the short URL's query string; omitted: the deployment's default (FORWARD_QUERY). */
  f?: boolean;
  /** The link's UTM parameters as a query string, added to whichever target is chosen. */
  t?: string;
};

export const REDIRECT_STATUSES = [301, 302, 307, 308] as const;
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number];

/**
 * The columns of a link a record is made of. Code that builds records from Postgres
 * selects exactly these (`db.select(RECORD_COLUMNS)`), so a column added here reaches
 * every record; `fromRecord` must then read it back (its type says so).
 */
export const RECORD_COLUMNS = {
  id: links.id,
  url: links.url,
  statusCode: links.statusCode,
  expiresAt: links.expiresAt,
  maxClicks: links.maxClicks,
  rules: links.rules,
  passwordHash: links.passwordHash,
  preview: links.preview,
  forwardQuery: links.forwardQuery,
  utm: links.utm,
};

/** The fields of a live link that shape its edge record. */
export type LinkRecordSource = Pick<Link, keyof typeof RECORD_COLUMNS>;

/** The record columns of a link created with only a target: what tests start from. */
export const PLAIN_LINK: Omit<LinkRecordSource, "id" | "url"> = {
  statusCode: 302,
  expiresAt: null,
  maxClicks: null,
  rules: [],
  passwordHash: null,
  preview: null,
  forwardQuery: null,
  utm: null,
};

/** A live link's record. A deleted link's is a `tombstone`. */
export function toLinkRecord(link: LinkRecordSource): LinkRecord {
  const record: LinkRecord = { v: 1, id: link.id, u: link.url };
  if (link.statusCode !== 302) record.s = link.statusCode as RedirectStatus;
  if (link.expiresAt) record.e = link.expiresAt.getTime();
  if (link.maxClicks != null) record.m = link.maxClicks;
  if (link.rules.length > 0) record.r = link.rules.map(toRuleRecord);
  if (link.passwordHash) record.p = link.passwordHash;
  if (link.preview) record.g = link.preview;
  if (link.forwardQuery !== null) record.f = link.forwardQuery;
  const utm = utmQuery(link.utm);
  if (utm) record.t = utm;
  return record;
}

/** A tombstone for a deleted link. */
export const tombstone = (id: number): LinkRecord => ({ v: 1, id, u: "", d: 1 });

/**
 * A record's fields under the names of the link columns they come from (times as epoch
 * milliseconds). Readers of the wire fields rather than a decoded copy: the redirect
 * reads them on every request and allocates nothing for them.
 */
export const fromRecord = {
  id: (record: LinkRecord): number => record.id,
  url: (record: LinkRecord): string => record.u,
  statusCode: (record: LinkRecord): RedirectStatus => record.s ?? 302,
  expiresAt: (record: LinkRecord): number | null => record.e ?? null,
  maxClicks: (record: LinkRecord): number | null => record.m ?? null,
  rules: (record: LinkRecord): readonly RuleRecord[] => record.r ?? NO_RULES,
  passwordHash: (record: LinkRecord): string | null => record.p ?? null,
  preview: (record: LinkRecord): LinkPreview | null => record.g ?? null,
  forwardQuery: (record: LinkRecord): boolean | null => record.f ?? null,
  /** Already a query string (`utm_source=…`), "" for none. */
  utm: (record: LinkRecord): string => record.t ?? "",
} satisfies { [Column in keyof LinkRecordSource]: (record: LinkRecord) => unknown };

const NO_RULES: readonly RuleRecord[] = Object.freeze([]);

/** Whether the record is a deleted link's tombstone. */
export const isTombstone = (record: LinkRecord): boolean => record.d === 1;

/** Accepts only records this code understands; anything else is treated as a miss. */
export function isLinkRecord(value: unknown): value is LinkRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Partial<LinkRecord>;
  return r.v === 1 && typeof r.id === "number" && typeof r.u === "string";
}
