import { type FieldProblem, ProblemError } from "@shared/problem";
import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import { errorResponse, problemResponse } from "../problem-response";

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
 * The one translator from thrown errors to responses: Hono's own HTTPExceptions below 500
 * become problems of their status; the rest as problem-response.ts renders them.
 *
 * @example app.onError(onError)
 */
export const onError: ErrorHandler = (err, c) => {
  const pathname = new URL(c.req.url).pathname;
  if (err instanceof HTTPException && err.status < 500) {
    const [kind, title] = HTTP_TITLES[err.status] ?? ["http-error", "Request refused"];
    return problemResponse(new ProblemError(err.status, kind, title, { detail: err.message }), pathname);
  }
  return errorResponse(err, c.req.method, pathname);
};

/** 404 for routes that do not exist, in the same shape as every other error. */
export const onNotFound: NotFoundHandler = (c) =>
  problemResponse(
    new ProblemError(404, "not-found", "Not found", { detail: "no such resource" }),
    new URL(c.req.url).pathname,
  );
