import type { Mutation } from "./types";

/** The redirect decision (worker/src/redirect/decide.ts) and the delete's KV tombstone. */

const DECISION_TESTS = ["worker/src/redirect/decide.test.ts", "test/redirect.test.ts"];
export const REDIRECT_MUTATIONS: Mutation[] = [
  {
    id: "redirect-ignores-expiry",
    bug: "an expired link still redirects",
    file: "worker/src/redirect/decide.ts",
    search: 'if (expiresAt !== null && expiresAt <= now) return { kind: "gone", reason: "expired" };',
    replace: "",
    tests: DECISION_TESTS,
  },
  {
    id: "redirect-max-clicks-off-by-one",
    bug: "a link with maxClicks n allows n + 1 clicks",
    file: "worker/src/redirect/decide.ts",
    search: "click ? count.clicks > maxClicks : count.clicks >= maxClicks",
    replace: "click ? count.clicks > maxClicks + 1 : count.clicks >= maxClicks",
    tests: DECISION_TESTS,
  },
  {
    id: "redirect-head-limit-off-by-one",
    bug: "HEAD reports a used-up link as still open",
    file: "worker/src/redirect/decide.ts",
    search: "click ? count.clicks > maxClicks : count.clicks >= maxClicks",
    replace: "click ? count.clicks > maxClicks : count.clicks > maxClicks",
    tests: DECISION_TESTS,
  },
  {
    id: "redirect-follows-tombstone",
    bug: "the edge redirects a deleted link's tombstone instead of answering 404",
    file: "worker/src/redirect/decide.ts",
    search: "if (!link || isTombstone(link)) return",
    replace: "if (!link) return",
    tests: DECISION_TESTS,
  },
  {
    id: "delete-drops-kv-record",
    bug: "a delete removes the KV record instead of writing a tombstone (the 404 then costs a Postgres query)",
    file: "worker/src/services/links.ts",
    search: "await this.store.put(linkKey(domain, slug), tombstone(row.id));",
    replace: "await this.store.delete(linkKey(domain, slug));",
    tests: ["test/kv-miss.test.ts"],
  },
];
