import type { LinkStore } from "@shared/ports";
import { ProblemError } from "@shared/problem";
import { describe, expect, it } from "vitest";
import { readConfig } from "../config";
import type { Env } from "../env";
import type { Runtime } from "../runtime";
import { NegativeCache } from "./negative-cache";
import { resolveLink } from "./resolve-link";
import { TokenBucket } from "./token-bucket";

/**
 * The miss policy without servers. Postgres is an address nothing listens on, so a
 * lookup that asked it would end in a 503: a plain null proves it was not asked.
 */
const env = {
  DATABASE_URL: "postgres://nobody@127.0.0.1:9/none",
  DB_WS_PROXY: "127.0.0.1:9/v2",
  DB_FALLBACK_TIMEOUT_MS: "300",
} as Env;
const background = { waitUntil: () => {} };
const emptyStore: LinkStore = { get: async () => null, put: async () => {}, delete: async () => {} };
const brokenStore: LinkStore = {
  ...emptyStore,
  get: async () => {
    throw new Error("KV unreachable");
  },
};

function runtime(store: LinkStore, vars: Partial<Env>): Runtime {
  const config = readConfig({ ...env, ...vars });
  return {
    config,
    links: store,
    missing: new NegativeCache(100),
    fallbackBudget: new TokenBucket(config.kvMissFallbackPerSecond),
  } as unknown as Runtime;
}

const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "answered",
    (err) => (err instanceof ProblemError ? err.status : err),
  );

describe("resolveLink on a KV miss", () => {
  it("with KV_MISS_FALLBACK=none, answers a miss as unknown without asking Postgres", async () => {
    const rt = runtime(emptyStore, { KV_MISS_FALLBACK: "none" });
    expect(await resolveLink(rt, background, "", "abc")).toBeNull();
  });

  it("with the fallback's budget spent, answers a miss as unknown without asking Postgres", async () => {
    const rt = runtime(emptyStore, { KV_MISS_FALLBACK: "postgres", KV_MISS_FALLBACK_PER_SECOND: "0" });
    expect(await resolveLink(rt, background, "", "abc")).toBeNull();
  });

  it("asks Postgres within the budget, and answers 503 when it cannot", async () => {
    const rt = runtime(emptyStore, { KV_MISS_FALLBACK: "postgres" });
    expect(await statusOf(resolveLink(rt, background, "", "abc"))).toBe(503);
  });

  it("never turns a failed KV read into a 404, in either mode, even past the budget", async () => {
    for (const mode of ["none", "postgres"]) {
      const rt = runtime(brokenStore, { KV_MISS_FALLBACK: mode, KV_MISS_FALLBACK_PER_SECOND: "0" });
      expect(await statusOf(resolveLink(rt, background, "", "abc")), mode).toBe(503);
    }
  });
});
