import type { Mutation } from "./types";

/** The redirect decision (worker/src/routes/redirect.ts) and the delete's KV tombstone. */
export const REDIRECT_MUTATIONS: Mutation[] = [
  {
    id: "redirect-ignores-expiry",
    bug: "an expired link still redirects",
    file: "worker/src/routes/redirect.ts",
    search: 'if (expiresAt !== null && expiresAt <= now) throw gone("the link has expired");',
    replace: "",
    tests: ["test/redirect.test.ts"],
  },
  {
    id: "redirect-max-clicks-off-by-one",
    bug: "a link with maxClicks n allows n + 1 clicks",
    file: "worker/src/routes/redirect.ts",
    search: "isClick ? count > maxClicks : count >= maxClicks",
    replace: "isClick ? count > maxClicks + 1 : count >= maxClicks",
    tests: ["test/redirect.test.ts"],
  },
  {
    id: "redirect-head-limit-off-by-one",
    bug: "HEAD reports a used-up link as still open",
    file: "worker/src/routes/redirect.ts",
    search: "isClick ? count > maxClicks : count >= maxClicks",
    replace: "isClick ? count > maxClicks : count > maxClicks",
    tests: ["test/redirect.test.ts"],
  },
  {
    id: "redirect-follows-tombstone",
    bug: "the edge redirects a deleted link's tombstone instead of answering 404",
    file: "worker/src/routes/redirect.ts",
    search: "if (!record || isTombstone(record)) throw notFound",
    replace: "if (!record) throw notFound",
    tests: ["test/redirect.test.ts"],
  },
  {
    id: "delete-drops-kv-record",
    bug: "a delete removes the KV record instead of writing a tombstone (the 404 then costs a Postgres query)",
    file: "worker/src/services/links.ts",
    search: "await this.store.put(slug, tombstone(row.id));",
    replace: "await this.store.delete(slug);",
    tests: ["test/kv-miss.test.ts"],
  },
];
