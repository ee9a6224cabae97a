import { openDatabase } from "@shared/db/client";
import { sql } from "drizzle-orm";
import type { Env } from "../env";
import { runtimeFor } from "../runtime";

export type DependencyCheck = {
  name: "kv" | "redis" | "postgres";
  ok: boolean;
  latencyMs: number;
  error?: string;
};

const TIMEOUT_MS = 1000;

/** Secrets without which the worker cannot do its whole job (VISITOR_SALT: no clicks are recorded). */
export function missingSecrets(env: Env): string[] {
  return env.VISITOR_SALT ? [] : ["VISITOR_SALT"];
}

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
      const handle = openDatabase({
        url: env.DATABASE_URL,
        wsProxy: env.DB_WS_PROXY,
        connectTimeoutMs: TIMEOUT_MS,
      });
      try {
        await handle.db.execute(sql`select 1`);
      } finally {
        background.waitUntil(handle.close().catch(() => {}));
      }
    }),
  ]);
}
