/**
 * The dashboard's only way to the API. The secret (an API key or the admin token) lives in this object,
 * which lives in the page's memory: never in localStorage, sessionStorage or a cookie. Signing out drops
 * the object; a reload forgets the secret too.
 */

export type FieldProblem = { path: string; message: string };

/** An API error, as the API's problem+json states it. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly errors: FieldProblem[],
  ) {
    super(detail ?? title);
  }
}

export type Me = { ownerId: string; scopes: string[]; admin: boolean; defaultDomain?: string };

/** The default domain's name as the API writes it in links: routes to its links leave the domain out. */
let defaultDomain: string | undefined;
export const setDefaultDomain = (name: string | undefined) => {
  defaultDomain = name;
};

export type Link = {
  id: number;
  /** The short domain (#16); empty when the deployment names none. */
  domain?: string;
  slug: string;
  shortUrl: string;
  url: string;
  statusCode: number;
  expiresAt: string | null;
  maxClicks: number | null;
  externalId: string | null;
  tags: string[];
  ownerId: string;
  createdAt: string;
  updatedAt: string;
  rules?: Array<{ id: string; when: Record<string, unknown>; url: string; statusCode?: number }>;
  passwordProtected?: boolean;
  preview?: { title?: string; description?: string; image?: string } | null;
  forwardQuery?: boolean | null;
  utm?: Record<string, string> | null;
  clicks?: number;
  [field: string]: unknown;
};

export type LinkPage = { data: Link[]; nextCursor: string | null };
export type Breakdown = Array<{ value: string; clicks: number }>;
export type LinkStats = {
  slug: string;
  from: string;
  to: string;
  interval: "hour" | "day";
  totals: { clicks: number; humans: number; bots: number; uniqueVisitors: number };
  timeseries: Array<{ t: string; humans: number; bots: number }>;
  [breakdown: string]: unknown;
};
export type ServiceStats = {
  links: number;
  clicks: { total: number; humans: number; bots: number; last24h: number };
  topLinks: Array<{ slug: string; clicks: number; domain?: string }>;
};
export type BulkResult = {
  created: number;
  failed: number;
  results: Array<{
    index: number;
    status: number;
    link?: Link;
    error?: { title: string; detail?: string; errors?: FieldProblem[] };
  }>;
};

export class Api {
  readonly #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  async #send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#secret}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    if (!res.ok) {
      const problem = (await res.json().catch(() => ({}))) as {
        title?: string;
        detail?: string;
        errors?: FieldProblem[];
      };
      throw new ApiProblem(res.status, problem.title ?? res.statusText, problem.detail, problem.errors ?? []);
    }
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#send(method, path, body);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** An image or file the API makes (a QR code), as a Blob. */
  async blob(path: string): Promise<Blob> {
    return (await this.#send("GET", path)).blob();
  }

  me = () => this.json<Me>("GET", "/me");
  list = (query: URLSearchParams) => this.json<LinkPage>("GET", `/links?${query}`);
  get = (slug: string, domain?: string) => this.json<Link>("GET", linkPath(slug, domain));
  create = (body: Record<string, unknown>) => this.json<Link>("POST", "/links", body);
  update = (slug: string, domain: string | undefined, body: Record<string, unknown>) =>
    this.json<Link>("PATCH", linkPath(slug, domain), body);
  remove = (slug: string, domain?: string) => this.json<void>("DELETE", linkPath(slug, domain));
  bulk = (items: unknown[]) => this.json<BulkResult>("POST", "/links/bulk", items);
  stats = (slug: string, domain: string | undefined, query: URLSearchParams) =>
    this.json<LinkStats>("GET", linkPath(slug, domain, "/stats", query));
  qr = (slug: string, domain: string | undefined, query: URLSearchParams) =>
    this.blob(linkPath(slug, domain, "/qr", query));
  /** The summary of the caller's links; `owner: "*"` (admin token) of the whole service. */
  overview = (owner?: string) =>
    this.json<ServiceStats>("GET", `/stats${owner ? `?owner=${encodeURIComponent(owner)}` : ""}`);
}

/** `/links/{slug}{suffix}?…&domain=…`: a slug is unique per short domain, so every slug route names it. */
function linkPath(slug: string, domain?: string, suffix = "", query = new URLSearchParams()): string {
  const q = new URLSearchParams(query);
  if (domain) q.set("domain", domain);
  const search = q.toString();
  return `/links/${encodeURIComponent(slug)}${suffix}${search ? `?${search}` : ""}`;
}

/** The dashboard's own route of a link (hash path), with its domain. */
export function linkRoute(link: { slug: string; domain?: string }, suffix = ""): string {
  const domain = link.domain && link.domain !== defaultDomain ? link.domain : undefined;
  return `/links/${encodeURIComponent(link.slug)}${suffix}${domain ? `?domain=${encodeURIComponent(domain)}` : ""}`;
}

/** A message for any error a page shows. */
export const messageOf = (err: unknown): string =>
  err instanceof ApiProblem
    ? `${err.title}${err.detail ? `: ${err.detail}` : ""}`
    : err instanceof Error
      ? err.message
      : String(err);
