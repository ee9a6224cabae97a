import type { Mutation } from "./types";

/** The self-hosted index of KV keys: its feed (selfhost/kv-service), the isolate's index and its trust. */

const FEED_TESTS = [
  "selfhost/kv-service/change-log.test.ts",
  "worker/src/adapters/kv-feed-index.test.ts",
  "worker/src/services/resolve-link.test.ts",
];
export const KEY_INDEX_MUTATIONS: Mutation[] = [
  {
    id: "key-index-applies-older-changes",
    bug: "an index applies a page of changes older than its position (a late answer undoes newer keys)",
    file: "shared/kv-key-index.ts",
    search: "if (reload || page.epoch !== this.epoch || page.seq < this.seq) return;",
    replace: "if (reload || page.epoch !== this.epoch) return;",
    tests: FEED_TESTS,
  },
  {
    id: "change-log-hides-lost-changes",
    bug: "the feed answers changes since a position it no longer holds, instead of a full reload",
    file: "selfhost/kv-service/change-log.ts",
    search: " || after < oldest - 1",
    replace: "",
    tests: FEED_TESTS,
  },
  {
    id: "key-index-trusts-a-stale-pull",
    bug: "an isolate whose pulls stopped succeeding keeps answering 404 from its old index",
    file: "worker/src/adapters/kv-feed-index.ts",
    search: "now - this.pulledAt < TRUST_FOR_MS && ",
    replace: "",
    tests: FEED_TESTS,
  },
  {
    id: "kv-load-revives-deleted-keys",
    bug: "the KV service's load at a Redis reconnect brings back a key deleted while it read",
    file: "selfhost/kv-service/store.ts",
    search: "|| touched.has(key)",
    replace: "",
    tests: ["selfhost/kv-service/store.test.ts"],
  },
];
