/**
 * The compact record the edge reads from KV under `link:{slug}`: only what a redirect
 * needs, with a format version so that a rolling deploy can read old and new records.
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
};

export const REDIRECT_STATUSES = [301, 302, 307, 308] as const;
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number];

/** The fields of a stored link that shape its edge record. */
export type LinkRecordSource = {
  id: number;
  url: string;
  statusCode: number;
  expiresAt: Date | null;
  maxClicks: number | null;
  deletedAt?: Date | null;
};

export function toLinkRecord(link: LinkRecordSource): LinkRecord {
  const record: LinkRecord = { v: 1, id: link.id, u: link.url };
  if (link.statusCode !== 302) record.s = link.statusCode as RedirectStatus;
  if (link.expiresAt) record.e = link.expiresAt.getTime();
  if (link.maxClicks != null) record.m = link.maxClicks;
  if (link.deletedAt) record.d = 1;
  return record;
}

/** A tombstone for a deleted link. */
export const tombstone = (id: number): LinkRecord => ({ v: 1, id, u: "", d: 1 });

/** Accepts only records this code understands; anything else is treated as a miss. */
export function isLinkRecord(value: unknown): value is LinkRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Partial<LinkRecord>;
  return r.v === 1 && typeof r.id === "number" && typeof r.u === "string";
}
