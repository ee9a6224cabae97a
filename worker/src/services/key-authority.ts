import { ProblemError } from "@shared/problem";
import type { Principal } from "../env";

/**
 * Who may manage which keys. The admin token acts across owners; an API key with
 * `keys:admin` manages only the keys of its own owner, and never grants more than it holds.
 */

/** True for the bootstrap ADMIN_TOKEN, the only principal that is not a stored key. */
export const isAdminToken = (caller: Principal): boolean => caller.keyId === null;

/** The owner whose keys the caller may see and revoke; undefined means every owner (admin token). */
export const keyOwnerScope = (caller: Principal): string | undefined =>
  isAdminToken(caller) ? undefined : caller.ownerId;

/**
 * The owner a new key gets. The admin token may name any owner (a fresh one when none is
 * named); a key gets its own owner, and naming another one or a scope it lacks is a 403.
 */
export function ownerForNewKey(caller: Principal, input: { ownerId?: string; scopes: string[] }): string {
  if (isAdminToken(caller)) return input.ownerId ?? `owner_${crypto.randomUUID().slice(0, 12)}`;
  if (input.ownerId !== undefined && input.ownerId !== caller.ownerId) {
    throw new ProblemError(403, "cross-owner", "Another owner", {
      detail: "an API key creates keys for its own owner only; only the admin token names another owner",
      errors: [{ path: "ownerId", message: `must be "${caller.ownerId}" or left out` }],
    });
  }
  const notHeld = input.scopes.filter((scope) => !caller.scopes.includes(scope));
  if (notHeld.length > 0) {
    throw new ProblemError(403, "scope-not-held", "Scope not held", {
      detail: `a key cannot grant scopes it does not hold: ${notHeld.join(", ")}`,
      errors: [{ path: "scopes", message: `not held by this key: ${notHeld.join(", ")}` }],
    });
  }
  return caller.ownerId;
}

/**
 * Whose links a list or summary covers, from its `owner` parameter: the caller's own when left out (or named);
 * the admin token may name any owner, or `*` for every owner (null). A key naming another owner is a 403.
 */
export function ownerToRead(
  caller: { ownerId: string; seesEveryOwner: boolean },
  owner: string | undefined,
): string | null {
  if (owner === undefined || owner === caller.ownerId) return caller.ownerId;
  if (!caller.seesEveryOwner) {
    throw new ProblemError(403, "cross-owner", "Another owner", {
      detail: "an API key reads its own owner's links only",
      errors: [{ path: "owner", message: `must be "${caller.ownerId}" or left out` }],
    });
  }
  return owner === "*" ? null : owner;
}
