import { ProblemError } from "@shared/problem";

/**
 * Error answers as RFC 9457 problem+json, for the two places that render them: Hono's
 * onError (middleware/errors.ts) and the redirect core (redirect/answer.ts), which must
 * not depend on the router.
 */

const PROBLEM_JSON = "application/problem+json";

/** Renders a problem with its status and headers; `pathname` becomes its `instance`. */
export function problemResponse(problem: ProblemError, pathname: string): Response {
  const headers = new Headers(problem.headers);
  headers.set("Content-Type", PROBLEM_JSON);
  return new Response(JSON.stringify(problem.toBody(pathname)), { status: problem.status, headers });
}

/**
 * A ProblemError as its problem; anything else is logged with its cause and answered with
 * a generic 500: no stack, no SQL, no internal message.
 */
export function errorResponse(err: unknown, method: string, pathname: string): Response {
  if (err instanceof ProblemError) return problemResponse(err, pathname);
  console.error("unhandled error", method, pathname, err);
  return problemResponse(
    new ProblemError(500, "internal", "Internal error", { detail: "the request could not be completed" }),
    pathname,
  );
}
