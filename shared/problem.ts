/**
 * Typed errors that the one error translator turns into RFC 9457 problem+json.
 * Routes throw these; they never build error bodies by hand.
 */

export type FieldProblem = { path: string; message: string };

export type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldProblem[];
};

/** Base of the `type` URIs; each error kind has a stable slug under it. */
export const PROBLEM_TYPE_BASE = "https://edge-redirect.dev/problems/";

export class ProblemError extends Error {
  readonly status: number;
  readonly kind: string;
  readonly title: string;
  readonly detail?: string;
  readonly errors?: FieldProblem[];
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    kind: string,
    title: string,
    options: { detail?: string; errors?: FieldProblem[]; headers?: Record<string, string> } = {},
  ) {
    super(options.detail ?? title);
    this.status = status;
    this.kind = kind;
    this.title = title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers;
  }

  toBody(instance?: string): ProblemBody {
    const body: ProblemBody = { type: PROBLEM_TYPE_BASE + this.kind, title: this.title, status: this.status };
    if (this.detail) body.detail = this.detail;
    if (instance) body.instance = instance;
    if (this.errors?.length) body.errors = this.errors;
    return body;
  }
}

export const badRequest = (detail: string, errors?: FieldProblem[]) =>
  new ProblemError(400, "invalid-request", "Invalid request", { detail, errors });
export const notFound = (detail: string) => new ProblemError(404, "not-found", "Not found", { detail });
export const conflict = (detail: string) => new ProblemError(409, "conflict", "Conflict", { detail });
export const unauthorized = (detail: string) =>
  new ProblemError(401, "unauthorized", "Unauthorized", {
    detail,
    headers: { "WWW-Authenticate": 'Bearer realm="api"' },
  });
export const forbidden = (detail: string) => new ProblemError(403, "forbidden", "Forbidden", { detail });
export const unavailable = (detail: string) =>
  new ProblemError(503, "unavailable", "Service unavailable", { detail, headers: { "Retry-After": "1" } });
