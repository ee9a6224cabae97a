import type { Mutation } from "./types";

/** Owner isolation: key administration and the owner-wide stats. */
export const OWNER_MUTATIONS: Mutation[] = [
  {
    id: "key-admin-lists-every-owner",
    bug: "a keys:admin key lists and revokes every owner's keys",
    file: "worker/src/services/key-authority.ts",
    search: "isAdminToken(caller) ? undefined : caller.ownerId;",
    replace: "undefined;",
    tests: ["test/owners.test.ts"],
  },
  {
    id: "key-admin-names-any-owner",
    bug: "a keys:admin key creates keys for any owner it names",
    file: "worker/src/services/key-authority.ts",
    search: "if (isAdminToken(caller)) return input.ownerId ??",
    replace: "if (true) return input.ownerId ??",
    tests: ["test/owners.test.ts"],
  },
  {
    id: "key-grants-scopes-not-held",
    bug: "a key grants scopes it does not hold itself",
    file: "worker/src/services/key-authority.ts",
    search: "input.scopes.filter((scope) => !caller.scopes.includes(scope))",
    replace: "input.scopes.filter(() => false)",
    tests: ["test/owners.test.ts"],
  },
  {
    id: "admin-owner-not-reserved",
    bug: "a key can be given the owner `admin`, and with it the admin token's links",
    file: "shared/api-keys.ts",
    search: "ownerId.toLowerCase() === ADMIN_OWNER;",
    replace: "false;",
    tests: ["test/owners.test.ts"],
  },
  {
    id: "stats-totals-every-owner",
    bug: "GET /api/v1/stats sums every owner's clicks",
    file: "worker/src/services/stats.ts",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text searched for contains a placeholder
    search: "where ${links.ownerId} = ${ownerId})`;",
    replace: "where true)`;",
    tests: ["test/owners.test.ts"],
  },
  {
    id: "key-lists-another-owner",
    bug: "an API key naming another owner (or *) in the link list or summary sees that owner's links",
    file: "worker/src/services/key-authority.ts",
    search: "if (!caller.seesEveryOwner) {",
    replace: "if (false) {",
    tests: ["test/links-list.test.ts"],
  },
];
