import type { Database } from "@shared/db/client";
import { domains } from "@shared/db/schema";
import { HOST_MESSAGES, normalizeHost } from "@shared/domains/host";
import { storedDomain } from "@shared/domains/table";
import { badRequest, ProblemError } from "@shared/problem";
import { eq } from "drizzle-orm";
import type { Principal } from "../env";
import { isAdminToken } from "./key-authority";

/** 400 for a `domain` field naming no configured short domain (or one removed meanwhile). */
export const unknownDomainField = (name: string, path = "domain"): ProblemError =>
  new ProblemError(400, "unknown-domain", "Unknown domain", {
    detail: `"${name}" is not a short domain of this service (GET /api/v1/domains lists them)`,
    errors: [{ path, message: "is not a configured domain" }],
  });

/**
 * Which domain a link request means and whether its caller may use it, from Postgres (the
 * source of truth; the API never reads the edge's copy of the table). A domain with
 * `allowedOwners` admits new links only from those owners' keys, and the admin token; any other
 * is a 403. Links already there stay their owner's to read, change and delete: the restriction
 * may come after them, and an owner should not lose its own links to it.
 *
 * @example const domain = await access.storedDomain(c.req.valid("query").domain, "existing-links");
 */
export class DomainAccess {
  private names: Promise<string[]> | undefined;

  constructor(
    private readonly db: Database,
    private readonly principal: Principal,
    /** PUBLIC_BASE_URL's normalized host: links on it are stored with the domain "". */
    private readonly defaultHost: string | null,
    /**
     * The default domain's name as answers print it (ShortUrlBase.defaultName: the default host,
     * else the request's): sent back, it means the default domain unless a configured domain has it.
     */
    private readonly defaultName: string | null,
  ) {}

  /**
   * The stored domain ("" for the default) of a `domain` field as sent; left out, the default.
   * 400 for a name that is no configured domain; for a `"new-link"`, 403 for a domain the caller's
   * owner may not create links on (`"existing-links"`: reading, changing, deleting the owner's own).
   */
  async storedDomain(
    raw: string | undefined,
    use: "new-link" | "existing-links",
    path = "domain",
  ): Promise<string> {
    let name = this.defaultHost;
    if (raw !== undefined && raw !== "") {
      const host = normalizeHost(raw);
      if (host.problem)
        throw badRequest("the domain is not valid", [{ path, message: HOST_MESSAGES[host.problem] }]);
      name = host.host;
    }
    const [row] =
      name === null
        ? []
        : await this.db
            .select({ name: domains.name, allowedOwners: domains.allowedOwners })
            .from(domains)
            .where(eq(domains.name, name))
            .limit(1);
    if (!row && name === this.defaultName) return "";
    if (name !== null && name !== this.defaultHost && !row) {
      throw unknownDomainField(name, path);
    }
    const allowed = row?.allowedOwners;
    if (
      use === "new-link" &&
      allowed &&
      !isAdminToken(this.principal) &&
      !allowed.includes(this.principal.ownerId)
    ) {
      throw new ProblemError(403, "domain-not-allowed", "Domain not allowed", {
        detail: `this key's owner may not use the domain "${name}"`,
        errors: [{ path, message: "not allowed for this key's owner" }],
      });
    }
    return storedDomain(name ?? "", this.defaultHost);
  }

  /** The host names (without ports) of every configured domain: targets on them would loop. */
  shortHostnames(): Promise<string[]> {
    this.names ??= this.db
      .select({ name: domains.name })
      .from(domains)
      .then((rows) => rows.map((row) => normalizeHost(row.name).hostname ?? row.name));
    return this.names;
  }
}
