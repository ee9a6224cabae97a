import { OpenAPIHono } from "@hono/zod-openapi";
import { badRequest } from "@shared/problem";
import type { AppEnv } from "../env";
import { fieldProblems } from "../middleware/errors";

/**
 * An OpenAPIHono whose validation failures all become the same 400 problem+json,
 * thrown to the one error translator.
 */
export const openApiApp = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw badRequest(`the request ${result.target} is not valid`, fieldProblems(result.error));
      }
    },
  });
