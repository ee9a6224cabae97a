import { CONNECT_TIMEOUT_MS, openDatabaseFor } from "@shared/db/settings";
import { sql } from "drizzle-orm";
import type { Env } from "../env";
import { runtimeFor } from "../runtime";

export type DependencyCheck = {
  name: "kv" | "redis" | "postgres";
  ok: boolean;
  latencyMs: number;
  error?: string;
};

/** Each probe's bound; Postgres's connect timeout for probes is the same second. */
const TIMEOUT_MS = CONNECT_TIMEOUT_MS.probe;

async function timed(name: DependencyCheck["name"], probe: () => Promise<unknown>): Promise<DependencyCheck> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return { name, ok: true, latencyMs: Math.round(performance.now() - start) };
  } catch (err) {
    return {
      name,
      ok: false,
      latencyMs: Math.round(performance.now() - start),
      error: (err as Error).message,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Checks KV, Redis and Postgres in parallel, each within one second. */
export async function checkDependencies(env: Env, background: { waitUntil(p: Promise<unknown>): void }) {
  const rt = runtimeFor(env);
  return Promise.all([
    timed("kv", () => env.LINKS.get("health:probe")),
    timed("redis", () => rt.redis.ping()),
    timed("postgres", async () => {
      const handle = openDatabaseFor(rt.config.database, "probe");
      try {
        await handle.db.execute(sql`select 1`);
      } finally {
        background.waitUntil(handle.close().catch(() => {}));
      }
    }),
  ]);
}
