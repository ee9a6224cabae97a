import { ProblemSchema } from "../schemas/link";

/** Pieces every route's OpenAPI definition repeats. */

/** A documented problem+json answer. */
export const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

/** A documented JSON answer. */
export const json = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A required JSON request body (required, so a body of another type is refused, not skipped). */
export const jsonBody = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

/** Either credential header works on every API route. */
export const security: Array<Record<string, string[]>> = [{ bearer: [] }, { apiKey: [] }];

/** The answers every authenticated route can give. */
export const authErrors = {
  401: problem("Missing or invalid API key"),
  403: problem("The key lacks the scope"),
  429: problem("Too many requests"),
};
