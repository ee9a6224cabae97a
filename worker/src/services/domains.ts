import type { Database } from "@shared/db/client";
import { uniqueViolation } from "@shared/db/errors";
import { type Domain, domains, links } from "@shared/db/schema";
import { normalizeHost } from "@shared/domains/host";
import { publishedTable, storedDomain } from "@shared/domains/table";
import { parseTargetUrl, TARGET_URL_MESSAGES, type TargetUrlPolicy } from "@shared/links/target-url";
import { badRequest, conflict, notFound } from "@shared/problem";
import { and, asc, count, eq, isNull, sql } from "drizzle-orm";
import type { ApiDomain, CreateDomainInput, UpdateDomainInput } from "../schemas/domain";
import type { DomainTable } from "./domain-table";

/**
 * The domain table's administration (admin token only, routes/domains.ts): Postgres first,
 * then the whole table is published to KV for the edge, and this isolate serves it at once.
 */
export class DomainService {
  constructor(
    private readonly db: Database,
    private readonly table: DomainTable,
    private readonly settings: {
      defaultHost: string | null;
      /** Hosts a redirect target may not name besides the short domains: the request's, PUBLIC_BASE_URL's. */
      ownHosts: readonly string[];
      allowPrivate: boolean;
    },
  ) {}

  /** Every domain by name; `db` may be a transaction. */
  list(db: Pick<Database, "select"> = this.db): Promise<Domain[]> {
    return db.select().from(domains).orderBy(asc(domains.name));
  }

  async add(input: CreateDomainInput): Promise<Domain> {
    const name = normalizedName(input.name);
    const policy = await this.targetPolicy(name);
    const [row] = await this.db
      .insert(domains)
      .values({
        name,
        notFoundUrl:
          input.notFoundUrl === undefined ? null : target(input.notFoundUrl, policy, "notFoundUrl"),
        baseUrl: input.baseUrl === undefined ? null : target(input.baseUrl, policy, "baseUrl"),
        allowedOwners: input.allowedOwners ?? null,
      })
      .returning()
      .catch((err) => {
        if (uniqueViolation(err) !== null) throw conflict(`the domain "${name}" is already configured`);
        throw err;
      });
    await this.publish();
    return row as Domain;
  }

  /** Changes a domain's redirects or owners (its name is its identity: a new name is a new domain). */
  async update(rawName: string, input: UpdateDomainInput): Promise<Domain> {
    const name = normalizedName(rawName);
    const policy = await this.targetPolicy(name);
    const redirect = (value: string | null | undefined, path: string) =>
      value === undefined || value === null ? value : target(value, policy, path);
    const [row] = await this.db
      .update(domains)
      .set({
        notFoundUrl: redirect(input.notFoundUrl, "notFoundUrl"),
        baseUrl: redirect(input.baseUrl, "baseUrl"),
        allowedOwners: input.allowedOwners,
        updatedAt: sql`now()`,
      })
      .where(eq(domains.name, name))
      .returning();
    if (!row) throw notFound(`no domain "${name}"`);
    await this.publish();
    return row;
  }

  /**
   * Removes a domain. Refused (409) while live links are on it: they would stop answering. The
   * default domain's row may go at any time (its links stay; only its redirects and owner list go).
   */
  async remove(rawName: string): Promise<void> {
    const name = normalizedName(rawName);
    const domain = storedDomain(name, this.settings.defaultHost);
    await this.db.transaction(async (tx) => {
      // The row lock first: a link being created on the domain holds the row (LinkService.create)
      // until it is in, so the count below sees it; one created after finds the domain gone.
      const [row] = await tx
        .select({ name: domains.name })
        .from(domains)
        .where(eq(domains.name, name))
        .for("update");
      if (!row) throw notFound(`no domain "${name}"`);
      if (domain !== "") {
        const [live] = await tx
          .select({ n: count() })
          .from(links)
          .where(and(eq(links.domain, domain), isNull(links.deletedAt)));
        if (live && live.n > 0) {
          throw conflict(`the domain "${name}" still has ${live.n} live links; delete them first`);
        }
      }
      await tx.delete(domains).where(eq(domains.name, name));
    });
    await this.publish();
  }

  /**
   * Writes the whole table to KV (the edge reads it whole) and serves it in this isolate at once.
   * Read and write hold DOMAIN_TABLE_LOCK: two changes publishing at once could otherwise put the
   * older read last, and KV would keep a table without the later change.
   */
  private async publish(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockDomainTable(tx);
      await this.table.publish(publishedTable(await this.list(tx)));
    });
  }

  /** A domain's redirects may not point at this service: any short domain, the new one included. */
  private async targetPolicy(newName: string): Promise<TargetUrlPolicy> {
    const names = [...(await this.list()).map((d) => d.name), newName];
    const hostnames = names.map((name) => normalizeHost(name).hostname ?? name);
    return { ownHosts: [...this.settings.ownHosts, ...hostnames], allowPrivate: this.settings.allowPrivate };
  }
}

/** The API shape of a domain row. */
export function toApiDomain(row: Domain, defaultHost: string | null): ApiDomain {
  return {
    name: row.name,
    isDefault: row.name === defaultHost,
    notFoundUrl: row.notFoundUrl,
    baseUrl: row.baseUrl,
    allowedOwners: row.allowedOwners,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A Postgres advisory lock's key: held while the domain table is changed or published. */
const DOMAIN_TABLE_LOCK = sql`hashtext('config:domains')`;

/** Waits for and takes DOMAIN_TABLE_LOCK until the transaction ends. */
async function lockDomainTable(tx: Pick<Database, "execute">): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${DOMAIN_TABLE_LOCK})`);
}

function normalizedName(raw: string): string {
  const { host } = normalizeHost(raw);
  // The schemas have checked the name already; this is their normal form.
  if (host === undefined)
    throw badRequest("the domain is not valid", [{ path: "name", message: "not a host name" }]);
  return host;
}

function target(raw: string, policy: TargetUrlPolicy, path: string): string {
  const { href, problem } = parseTargetUrl(raw, policy);
  if (problem)
    throw badRequest(`${path} is not acceptable`, [{ path, message: TARGET_URL_MESSAGES[problem] }]);
  return href;
}
