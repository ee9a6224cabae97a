import { badRequest, type FieldProblem } from "@shared/problem";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { unsafeTextMessage } from "../schemas/text";

/**
 * Refuses a request whose query has a parameter name or value with a character the API
 * never accepts (schemas/text.ts), naming the parameter: one check for every route, also
 * for parameters no schema declares, before anything reaches the database.
 *
 * @example api.use("*", queryText())
 */
export const queryText = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const problems: FieldProblem[] = [];
    for (const [name, values] of Object.entries(c.req.queries())) {
      const nameProblem = unsafeTextMessage(name);
      if (nameProblem) problems.push({ path: "(query)", message: `a parameter name ${nameProblem}` });
      for (const value of values) {
        const message = unsafeTextMessage(value);
        if (message) problems.push({ path: name, message });
      }
    }
    if (problems.length > 0) throw badRequest("the request query is not valid", problems);
    await next();
  });
