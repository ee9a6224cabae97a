import type { NormalizedHost } from "./host";

/**
 * The domain table as the edge reads it from KV (DOMAIN_TABLE_KEY), and how a request's
 * host picks its site from it. Written whole by the domain API and the self-host repair;
 * every isolate keeps it in memory (worker/src/services/domain-table.ts).
 */
export type PublishedDomainTable = {
  v: 1;
  domains: Array<{ name: string; notFoundUrl?: string; baseUrl?: string }>;
};

/** The rows the table is made of (the `domains` table's columns the edge needs). */
export type DomainRow = { name: string; notFoundUrl: string | null; baseUrl: string | null };

/**
 * The table the edge reads, made from every row of the `domains` table, by name: the one
 * builder for the domain API and the self-host repair, so both write the same value.
 */
export function publishedTable(rows: readonly DomainRow[]): PublishedDomainTable {
  const domains = [...rows]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((row) => ({
      name: row.name,
      ...(row.notFoundUrl ? { notFoundUrl: row.notFoundUrl } : {}),
      ...(row.baseUrl ? { baseUrl: row.baseUrl } : {}),
    }));
  return { v: 1, domains };
}

/** What answers a request on one host. */
export type Site = {
  /** The links' stored domain: "" for the default domain, else the normalized name. */
  domain: string;
  /** Where an unknown slug goes; null: the 404 problem. */
  notFoundUrl: string | null;
  /** Where `/` goes; null: the 404 problem. */
  baseUrl: string | null;
};

/** The deployment's settings that decide which site a host gets. */
export type HostPolicy = {
  /** PUBLIC_BASE_URL's host, normalized; null when unset. */
  defaultHost: string | null;
  /** What a host not in the table gets: the default domain, or the 404 problem. */
  unknownHosts: "default" | "not-found";
};

export type SiteMap = { byHost: ReadonlyMap<string, Site>; unknown: Site | null };

/** The stored domain of a normalized name: "" for the default domain's own name. */
export const storedDomain = (name: string, defaultHost: string | null): string =>
  name === defaultHost ? "" : name;

/** Whether a KV value is a domain table this code understands. */
export function isDomainTable(value: unknown): value is PublishedDomainTable {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Partial<PublishedDomainTable>;
  return t.v === 1 && Array.isArray(t.domains) && t.domains.every((d) => typeof d?.name === "string");
}

/** The sites of a table, by host, and what an unknown host gets. */
export function siteMap(table: PublishedDomainTable, policy: HostPolicy): SiteMap {
  const byHost = new Map<string, Site>();
  for (const d of table.domains) {
    byHost.set(d.name, {
      domain: storedDomain(d.name, policy.defaultHost),
      notFoundUrl: d.notFoundUrl ?? null,
      baseUrl: d.baseUrl ?? null,
    });
  }
  const bareDefault: Site = { domain: "", notFoundUrl: null, baseUrl: null };
  const defaultSite = (policy.defaultHost && byHost.get(policy.defaultHost)) || bareDefault;
  if (policy.defaultHost && !byHost.has(policy.defaultHost)) byHost.set(policy.defaultHost, defaultSite);
  return { byHost, unknown: policy.unknownHosts === "default" ? defaultSite : null };
}

/**
 * The site for a request's normalized host: its own entry; else, when the host has a port,
 * the entry of its name without one (a domain added without a port answers on every port);
 * else what unknown hosts get (null: 404).
 */
export function siteFor(sites: SiteMap, host: NormalizedHost): Site | null {
  return (
    sites.byHost.get(host.host) ??
    (host.host === host.hostname ? undefined : sites.byHost.get(host.hostname)) ??
    sites.unknown
  );
}
