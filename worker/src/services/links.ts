import type { Database } from "@shared/db/client";
import { uniqueViolation } from "@shared/db/errors";
import { domains, type Link, links } from "@shared/db/schema";
import { normalizeHost } from "@shared/domains/host";
import { linkKey } from "@shared/keys";
import { toLinkRecord, tombstone } from "@shared/links/record";
import { randomSlug } from "@shared/links/slug";
import { parseTargetUrl, TARGET_URL_MESSAGES, type TargetUrlPolicy } from "@shared/links/target-url";
import type { LinkStore } from "@shared/ports";
import { badRequest, conflict, notFound, ProblemError } from "@shared/problem";
import { and, arrayContains, desc, eq, ilike, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { ApiLink, CreateLinkInput, ListQuery, UpdateLinkInput } from "../schemas/link";
import { unknownDomainField } from "./domain-access";
import { ownerToRead } from "./key-authority";
import { hashPassword } from "./link-password";

/**
 * Link operations: Postgres first (the source of truth), then a write-through of the
 * edge record to the LinkStore so the redirect sees the change at once in this runtime.
 * A link is addressed by its stored domain ("" for the default domain) and slug; routes
 * turn the `domain` field into it (DomainAccess).
 */
export class LinkService {
  constructor(
    private readonly db: Database,
    private readonly store: LinkStore,
    private readonly ownerId: string,
    /**
     * This deployment's target URL rules: its own hosts (every short domain among them), whether
     * private targets are allowed. Asked only by writes that take a target.
     */
    private readonly targetPolicy: () => Promise<TargetUrlPolicy>,
    /**
     * The admin token: reads, changes and deletes any owner's link by domain and slug (unique among
     * live links) and lists any owner's; what it creates is still its own.
     */
    private readonly seesEveryOwner = false,
  ) {}

  async create(domain: string, input: Omit<CreateLinkInput, "domain">): Promise<Link> {
    const policy = await this.targetPolicy();
    const url = this.normalizedTarget(input.url, policy);
    const options = await this.linkOptions(input, policy);
    const attempts = input.slug ? 1 : 5;
    for (let attempt = 1; ; attempt++) {
      const slug = input.slug ?? randomSlug();
      try {
        const insert = (db: Pick<Database, "insert">) =>
          db
            .insert(links)
            .values({
              domain,
              slug,
              url,
              statusCode: input.statusCode ?? 302,
              expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
              maxClicks: input.maxClicks ?? null,
              externalId: input.externalId ?? null,
              tags: input.tags ?? [],
              rules: options.rules ?? [],
              passwordHash: options.passwordHash ?? null,
              preview: options.preview ?? null,
              forwardQuery: options.forwardQuery ?? null,
              utm: options.utm ?? null,
              ownerId: this.ownerId,
            })
            .returning();
        // On a domain of its own, the domain's row is held until the link is in: a removal of the
        // domain (services/domains.ts) waits for it and then counts it, or has removed it first.
        const [row] =
          domain === ""
            ? await insert(this.db)
            : await this.db.transaction(async (tx) => {
                await holdDomain(tx, domain);
                return insert(tx);
              });
        return await this.publish(row as Link);
      } catch (err) {
        const constraint = uniqueViolation(err);
        if (constraint === "links_owner_external_live") {
          throw new ProblemError(409, "external-id-conflict", "Conflict", {
            detail: `externalId "${input.externalId}" is already used by another link`,
          });
        }
        if (constraint === null) throw err;
        if (input.slug) throw conflict(`slug "${slug}" is already taken`);
        if (attempt >= attempts) throw err;
      }
    }
  }

  async get(domain: string, slug: string): Promise<Link> {
    const [row] = await this.db.select().from(links).where(this.live(domain, slug)).limit(1);
    if (!row) throw notFound(`no link with slug "${slug}"`);
    return row;
  }

  /**
   * A page of links, newest or most clicked first. The cursor is the sort key of the last link seen (its id;
   * for `clicks` its clicks then id), so paging never repeats a link while counts stand still.
   */
  async list(opts: ListQuery): Promise<{ rows: Array<Link & { clicks: number }>; next: string | null }> {
    const clicks = sql<string>`(select coalesce(sum(r.count), 0) from click_rollups r where r.link_id = ${links.id})`;
    const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor, opts.sort);
    const rows = await this.db
      .select({ link: links, clicks })
      .from(links)
      .where(
        and(
          this.ownerFilter(opts.owner),
          isNull(links.deletedAt),
          opts.tag === undefined ? undefined : arrayContains(links.tags, [opts.tag]),
          opts.domain === undefined ? undefined : eq(links.domain, opts.domain),
          opts.q === undefined ? undefined : containing(opts.q),
          after === undefined
            ? undefined
            : after.clicks === undefined
              ? lt(links.id, after.id)
              : sql`(${clicks}, ${links.id}) < (${after.clicks}, ${after.id})`,
        ),
      )
      .orderBy(...(opts.sort === "clicks" ? [desc(clicks), desc(links.id)] : [desc(links.id)]))
      .limit(opts.limit + 1);
    const page = rows.slice(0, opts.limit).map((r) => ({ ...r.link, clicks: Number(r.clicks) }));
    const last = page[page.length - 1];
    const more = rows.length > opts.limit && last;
    return {
      rows: page,
      next: more ? encodeCursor(last.id, opts.sort === "clicks" ? last.clicks : undefined) : null,
    };
  }

  /** Whose links a list shows: the caller's own; the admin token may name an owner, or `*` for all. */
  private ownerFilter(owner: string | undefined): SQL | undefined {
    const reads = ownerToRead({ ownerId: this.ownerId, seesEveryOwner: this.seesEveryOwner }, owner);
    return reads === null ? undefined : eq(links.ownerId, reads);
  }

  async update(domain: string, slug: string, input: UpdateLinkInput): Promise<Link> {
    const policy = await this.targetPolicy();
    const url = input.url === undefined ? undefined : this.normalizedTarget(input.url, policy);
    const options = await this.linkOptions(input, policy);
    const [row] = await this.db
      .update(links)
      .set({
        url,
        statusCode: input.statusCode,
        expiresAt: input.expiresAt == null ? input.expiresAt : new Date(input.expiresAt),
        maxClicks: input.maxClicks,
        tags: input.tags,
        ...options,
        updatedAt: sql`now()`,
      })
      .where(this.live(domain, slug))
      .returning();
    if (!row) throw notFound(`no link with slug "${slug}"`);
    return this.publish(row);
  }

  async delete(domain: string, slug: string): Promise<void> {
    const [row] = await this.db
      .update(links)
      .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
      .where(this.live(domain, slug))
      .returning({ id: links.id });
    if (!row) throw notFound(`no link with slug "${slug}"`);
    // A tombstone rather than a KV delete: the edge answers 404 without a Postgres fallback.
    await this.store.put(linkKey(domain, slug), tombstone(row.id));
  }

  /** Idempotent create-or-update keyed by the caller's own id (unique per owner across domains). */
  async upsertByExternalId(
    domain: string,
    externalId: string,
    input: Omit<CreateLinkInput, "externalId" | "domain">,
  ): Promise<{ link: Link; created: boolean }> {
    const [existing] = await this.db
      .select()
      .from(links)
      .where(and(eq(links.ownerId, this.ownerId), eq(links.externalId, externalId), isNull(links.deletedAt)))
      .limit(1);
    if (!existing) {
      try {
        return { link: await this.create(domain, { ...input, externalId }), created: true };
      } catch (err) {
        // A concurrent PUT with the same external id won the insert: fall through to update it.
        if (!(err instanceof ProblemError && err.kind === "external-id-conflict")) throw err;
        return this.upsertByExternalId(domain, externalId, input);
      }
    }
    if (domain !== existing.domain) {
      throw conflict(
        `externalId "${externalId}" belongs to a link on another domain; a domain cannot be changed`,
      );
    }
    if (input.slug !== undefined && input.slug !== existing.slug) {
      throw conflict(
        `externalId "${externalId}" belongs to slug "${existing.slug}"; a slug cannot be changed`,
      );
    }
    const link = await this.update(domain, existing.slug, {
      url: input.url,
      statusCode: input.statusCode ?? 302,
      expiresAt: input.expiresAt ?? null,
      maxClicks: input.maxClicks ?? null,
      tags: input.tags ?? [],
      rules: input.rules ?? [],
      // Left out, the password stays: GET never returns it, so a read-modify-PUT would drop it unseen.
      password: input.password,
      preview: input.preview ?? null,
      forwardQuery: input.forwardQuery ?? null,
      utm: input.utm ?? null,
    });
    return { link, created: false };
  }

  private live(domain: string, slug: string) {
    const owner = this.seesEveryOwner ? undefined : eq(links.ownerId, this.ownerId);
    return and(eq(links.domain, domain), eq(links.slug, slug), owner, isNull(links.deletedAt));
  }

  private async publish(row: Link): Promise<Link> {
    await this.store.put(linkKey(row.domain, row.slug), toLinkRecord(row));
    return row;
  }

  /** The href to store, after every rule including this deployment's own hosts and private-target setting. */
  private normalizedTarget(raw: string, policy: TargetUrlPolicy, path = "url"): string {
    const { href, problem } = parseTargetUrl(raw, policy);
    if (problem) {
      throw badRequest("the target URL is not acceptable", [{ path, message: TARGET_URL_MESSAGES[problem] }]);
    }
    return href;
  }

  /**
   * The columns of the link's options as given (undefined: not given, unchanged by an update):
   * rule targets and the preview image pass the main target's rules, rules without an id get
   * one, a password is hashed.
   */
  private async linkOptions(
    input: UpdateLinkInput,
    policy: TargetUrlPolicy,
  ): Promise<Partial<LinkOptionColumns>> {
    const columns: Partial<LinkOptionColumns> = {};
    if (input.rules !== undefined) {
      const taken = new Set(input.rules.flatMap((rule) => (rule.id === undefined ? [] : [rule.id])));
      columns.rules = input.rules.map((rule, index) => ({
        ...rule,
        id: rule.id ?? newRuleId(taken),
        url: this.normalizedTarget(rule.url, policy, `rules.${index}.url`),
      }));
    }
    if (input.password !== undefined) {
      columns.passwordHash = input.password === null ? null : await hashPassword(input.password);
    }
    if (input.preview !== undefined) {
      const image = input.preview?.image;
      columns.preview =
        input.preview === null || image === undefined
          ? input.preview
          : { ...input.preview, image: this.normalizedTarget(image, policy, "preview.image") };
    }
    if (input.forwardQuery !== undefined) columns.forwardQuery = input.forwardQuery;
    if (input.utm !== undefined) columns.utm = input.utm;
    return columns;
  }
}

/** How short URLs are written: the default domain's base, and the scheme and name other domains use. */
export type ShortUrlBase = {
  /** PUBLIC_BASE_URL, else the request's origin: the default domain's links are `${defaultBase}/${slug}`. */
  defaultBase: string;
  /** The default domain's name in answers: PUBLIC_BASE_URL's host, else the request's. */
  defaultName: string;
  /** `https:` or `http:`, as the default base has it. */
  scheme: string;
};

/** How answers to a request on `requestUrl` write short URLs. */
export function shortUrlBaseFor(
  config: { publicBaseUrl: string | null; defaultHost: string | null },
  requestUrl: string,
): ShortUrlBase {
  const url = new URL(requestUrl);
  const defaultBase = config.publicBaseUrl ?? url.origin;
  // Normalized as a `domain` sent back is (DomainAccess), so the name printed is the name accepted.
  const defaultName = config.defaultHost ?? normalizeHost(url.host).host ?? url.host;
  return { defaultBase, defaultName, scheme: new URL(defaultBase).protocol };
}

/** The API shape of a stored link. */
export function toApiLink(row: Link, base: ShortUrlBase): ApiLink {
  return {
    id: row.id,
    domain: row.domain || base.defaultName,
    slug: row.slug,
    shortUrl:
      row.domain === "" ? `${base.defaultBase}/${row.slug}` : `${base.scheme}//${row.domain}/${row.slug}`,
    url: row.url,
    statusCode: row.statusCode,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    maxClicks: row.maxClicks,
    externalId: row.externalId,
    tags: row.tags,
    ownerId: row.ownerId,
    rules: row.rules,
    passwordProtected: row.passwordHash !== null,
    preview: row.preview,
    forwardQuery: row.forwardQuery,
    utm: row.utm,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** `q` as found in the slug, the target or a tag; `%`, `_` and `\\` in it match themselves. */
function containing(q: string): SQL | undefined {
  const pattern = `%${q.replace(/[\\%_]/g, "\\$&")}%`;
  return or(
    ilike(links.slug, pattern),
    ilike(links.url, pattern),
    sql`exists (select 1 from unnest(${links.tags}) as tag where tag ilike ${pattern})`,
  );
}

type LinkOptionColumns = Pick<Link, "rules" | "passwordHash" | "preview" | "forwardQuery" | "utm">;

/** A rule id not in `taken` (which it joins): 8 random characters of the id alphabet. */
function newRuleId(taken: Set<string>): string {
  for (;;) {
    const id = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

type Cursor = { id: number; clicks?: number };

const encodeCursor = (id: number, clicks?: number): string =>
  btoa(clicks === undefined ? `id:${id}` : `clicks:${clicks}:${id}`).replace(/=+$/, "");

function decodeCursor(cursor: string, sort: ListQuery["sort"]): Cursor {
  let decoded = "";
  try {
    decoded = atob(cursor);
  } catch {
    // fall through to the 400 below
  }
  const byId = /^id:(\d{1,15})$/.exec(decoded);
  if (byId && sort === "newest") return { id: Number(byId[1]) };
  const byClicks = /^clicks:(\d{1,15}):(\d{1,15})$/.exec(decoded);
  if (byClicks && sort === "clicks") return { clicks: Number(byClicks[1]), id: Number(byClicks[2]) };
  throw badRequest("the cursor is not valid", [
    { path: "cursor", message: "not a cursor from this API for this sort" },
  ]);
}

/** Locks a domain's row (FOR KEY SHARE) until the transaction ends; 400 if it is gone by now. */
async function holdDomain(tx: Pick<Database, "select">, domain: string): Promise<void> {
  const [row] = await tx
    .select({ name: domains.name })
    .from(domains)
    .where(eq(domains.name, domain))
    .for("key share");
  if (!row) throw unknownDomainField(domain);
}
