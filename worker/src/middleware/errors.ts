import { type FieldProblem, ProblemError } from "@shared/problem";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";

export const PROBLEM_JSON = "application/problem+json";

/** Renders a problem as RFC 9457 JSON with its status and headers. */
export function problemResponse(c: Context, problem: ProblemError): Response {
  return problemFor(problem, new URL(c.req.url).pathname);
}

/** problemResponse without a Hono context, for the redirect's fast path. */
export function problemFor(problem: ProblemError, pathname: string): Response {
  const headers = new Headers(problem.headers);
  headers.set("Content-Type", PROBLEM_JSON);
  return new Response(JSON.stringify(problem.toBody(pathname)), { status: problem.status, headers });
}

/** Turns zod issues into the `errors[]` of a 400, with JSON-pointer-ish paths. */
export function fieldProblems(error: ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.length ? issue.path.map(String).join(".") : "(body)",
    message: issue.message,
  }));
}

const HTTP_TITLES: Record<number, [kind: string, title: string]> = {
  400: ["invalid-request", "Invalid request"],
  401: ["unauthorized", "Unauthorized"],
  404: ["not-found", "Not found"],
  405: ["method-not-allowed", "Method not allowed"],
  413: ["payload-too-large", "Payload too large"],
  415: ["unsupported-media-type", "Unsupported media type"],
};

/**
 * The one translator from thrown errors to responses. Unknown errors are logged with
 * their cause and answered with a generic 500: no stack, no SQL, no internal message.
 *
 * @example app.onError(onError)
 */
export const onError: ErrorHandler = (err, c) =>
  errorResponse(err, c.req.method, new URL(c.req.url).pathname);

/** onError without a Hono context, for the redirect's fast path. */
export function errorResponse(err: unknown, method: string, pathname: string): Response {
  if (err instanceof ProblemError) return problemFor(err, pathname);
  if (err instanceof HTTPException && err.status < 500) {
    const [kind, title] = HTTP_TITLES[err.status] ?? ["http-error", "Request refused"];
    return problemFor(new ProblemError(err.status, kind, title, { detail: err.message }), pathname);
  }
  console.error("unhandled error", method, pathname, err);
  return problemFor(
    new ProblemError(500, "internal", "Internal error", { detail: "the request could not be completed" }),
    pathname,
  );
}

/** 404 for routes that do not exist, in the same shape as every other error. */
export const onNotFound: NotFoundHandler = (c) =>
  problemResponse(c, new ProblemError(404, "not-found", "Not found", { detail: "no such resource" }));
