import { ADMIN_OWNER, isReservedOwner, SCOPES, type Scope } from "@shared/api-keys";
import { forbidden, unauthorized } from "@shared/problem";
import { presentedSecret, secretsEqual } from "@shared/secrets-equal";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Principal } from "../env";
import { runtimeFor } from "../runtime";
import { principalForKey } from "../services/api-keys";
import { isAdminToken } from "../services/key-authority";
import { consumeLimit } from "./rate-limit";

/**
 * Requires a valid key with `scope`; sets `principal`. The ADMIN_TOKEN secret has
 * every scope and owns its own links; API keys are looked up by hash in Postgres on
 * every request, so a revocation takes effect at once.
 *
 * @example links.use("*", requireScope("links:write"))
 */
export const requireScope = (scope: Scope) => authenticate(scope);

/**
 * Requires a valid key of any scope; sets `principal`.
 *
 * @example me.use("*", requireKey())
 */
export const requireKey = () => authenticate(null);

const authenticate = (scope: Scope | null) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const secret = presentedSecret(c.req.raw.headers, { apiKey: true });
    if (!secret) throw unauthorized("an API key is required (Authorization: Bearer <key> or X-Api-Key)");
    const principal =
      (await adminPrincipal(secret, runtimeFor(c.env).config.adminToken)) ??
      (await principalForKey(c.var.db(), secret, c.executionCtx));
    // A key given the admin's owner before that owner was reserved would act on the admin token's links.
    if (!principal || (!isAdminToken(principal) && isReservedOwner(principal.ownerId))) {
      throw unauthorized("the API key is not valid");
    }
    if (scope !== null && !principal.scopes.includes(scope))
      throw forbidden(`this key lacks the ${scope} scope`);
    c.set("principal", principal);
    await consumeLimit(c.env, "key", isAdminToken(principal) ? principal.ownerId : `key-${principal.keyId}`);
    await next();
  });

async function adminPrincipal(secret: string, adminToken: string | null): Promise<Principal | null> {
  if (adminToken && (await secretsEqual(secret, adminToken))) {
    return { ownerId: ADMIN_OWNER, scopes: SCOPES, keyId: null };
  }
  return null;
}
