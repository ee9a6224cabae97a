import { invalidHost, normalizeHost } from "@shared/domains/host";
import {
  type HostPolicy,
  isDomainTable,
  type PublishedDomainTable,
  type Site,
  type SiteMap,
  siteFor,
  siteMap,
} from "@shared/domains/table";
import { DOMAIN_TABLE_KEY } from "@shared/keys";
import type { Background } from "@shared/ports";
import { unavailable } from "@shared/problem";

const EMPTY: PublishedDomainTable = { v: 1, domains: [] };
/** After a failed read, the next try comes sooner than a refresh. */
const RETRY_AFTER_FAILURE_MS = 1000;
/** Raw Host values remembered with their site; past this many (a flood of made-up hosts) the memo starts over. */
const MAX_REMEMBERED_HOSTS = 1000;

/**
 * The isolate's copy of the domain table: which site (stored domain, not-found and base
 * redirects) a request's Host gets. Read from KV once when the isolate serves its first
 * request that needs it, then re-read in the background (waitUntil) once `refreshMs` has
 * passed, so a redirect never waits for it again; the isolate that changes the table
 * (the domain API) replaces its copy at once (docs/decisions.md, "Several domains").
 *
 * @example let site = table.siteNow(host, ctx); if (site === undefined) site = await table.site(host, ctx);
 */
export class DomainTable {
  private sites: SiteMap | null = null;
  /**
   * The isolate could not read the table yet: only the default domain's own host is known, and any
   * other Host may be a domain of its own, so it gets a 503 rather than the default domain's links.
   */
  private unread = false;
  /**
   * The site of each raw Host seen since the table last changed. For an already normal Host this
   * costs about what normalizing it does (≈ 0.2 µs, docs/benchmarks.md); a Host in another spelling
   * (uppercase, trailing dot, IDN) would otherwise be parsed as a URL on every request.
   */
  private readonly siteOfRawHost = new Map<string, Site | null>();
  private readAt = 0;
  private nextReadAt = 0;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly kv: KVNamespace,
    private readonly policy: HostPolicy,
    private readonly refreshMs: number,
    private readonly cacheTtl: number,
  ) {}

  /**
   * The site for a raw Host (`name[:port]` as the request carried it) from memory; null when
   * unknown hosts get a 404; undefined before this isolate has read the table (then `site`).
   * Starts a background refresh when one is due. Throws a 400 problem for a Host that is no
   * host name, and a 503 for any host but the default domain's own while the table could never be read.
   */
  siteNow(rawHost: string, ctx: Background): Site | null | undefined {
    if (!this.sites) return undefined;
    this.refreshIfDue(ctx);
    const remembered = this.siteOfRawHost.get(rawHost);
    if (remembered !== undefined) return remembered;
    const host = normalizeHost(rawHost);
    if (host.problem) throw invalidHost(host.problem);
    const site = siteFor(this.sites, host);
    if (site === null && this.unread) throw unavailable("the short domains are not known yet; try again");
    if (this.siteOfRawHost.size >= MAX_REMEMBERED_HOSTS) this.siteOfRawHost.clear();
    this.siteOfRawHost.set(rawHost, site);
    return site;
  }

  /** `siteNow`, reading the table from KV first when this isolate has none yet. */
  async site(rawHost: string, ctx: Background): Promise<Site | null> {
    if (!this.sites) await this.read();
    // read() always leaves a table behind, empty when KV could not answer.
    return this.siteNow(rawHost, ctx) ?? null;
  }

  /** Installs a table this isolate has just published (the domain API), so it is served at once. */
  replace(table: PublishedDomainTable): void {
    this.install(siteMap(table, this.policy));
    this.readAt = Date.now();
    this.nextReadAt = this.readAt + this.refreshMs;
  }

  /** Writes the table to KV and serves it here at once. */
  async publish(table: PublishedDomainTable): Promise<void> {
    await this.kv.put(DOMAIN_TABLE_KEY, JSON.stringify(table));
    this.replace(table);
  }

  private install(sites: SiteMap, unread = false): void {
    this.sites = sites;
    this.unread = unread;
    this.siteOfRawHost.clear();
  }

  private refreshIfDue(ctx: Background): void {
    if (this.reading || Date.now() < this.nextReadAt) return;
    ctx.waitUntil(this.read());
  }

  /** One KV read, shared by every request that arrives while it runs; never rejects. */
  private read(): Promise<void> {
    if (this.reading) return this.reading;
    const started = Date.now();
    this.reading = this.kv
      .get<unknown>(DOMAIN_TABLE_KEY, { type: "json", cacheTtl: this.cacheTtl })
      .then((value) => {
        // A table published by this isolate while the read was under way is newer than what it read.
        if (this.readAt > started) return;
        this.install(siteMap(isDomainTable(value) ? value : EMPTY, this.policy));
        this.readAt = started;
        this.nextReadAt = started + this.refreshMs;
      })
      .catch((err) => {
        console.error("domain table not read from KV", err);
        // Keep serving the last table; without one, the default domain's own host alone (`unread`).
        if (!this.sites) this.install(siteMap(EMPTY, { ...this.policy, unknownHosts: "not-found" }), true);
        this.nextReadAt = Date.now() + RETRY_AFTER_FAILURE_MS;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }
}
