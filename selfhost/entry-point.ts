/**
 * The command-line entry of a self-hosted service (`tsx selfhost/kv-service.ts`, as Compose and the
 * runner start them): runs only when the file is the one node was started with, reads the settings
 * every service shares from the environment, and closes the service on SIGINT/SIGTERM.
 *
 * @example
 *   await runServiceIfMain(import.meta.url, { port: 8070 }, async (env) => {
 *     const kv = await startKvService({ redisUrl: env.redisUrl, token: env.internalToken, port: env.port, host: env.host });
 *     return { service: kv, started: `kv service on ${kv.address}` };
 *   });
 */
import { fileURLToPath } from "node:url";
import type { ServiceHandle } from "./http-service";

/** True when the module at `moduleUrl` (its `import.meta.url`) is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return Boolean(process.argv[1]) && fileURLToPath(moduleUrl) === process.argv[1];
}

/** The variables every service reads; `require` throws with `hint` when a variable is unset or empty. */
export type ServiceEnv = {
  port: number;
  host: string | undefined;
  redisUrl: string;
  /** INTERNAL_TOKEN; empty when unset, so the service's own check refuses to start. */
  internalToken: string;
  require(name: string, hint: string): string;
};

/**
 * When `moduleUrl` is the main module: starts the service with `start`, logs its `started` line and,
 * on SIGINT or SIGTERM, closes it and exits 0. `defaults.port` applies when PORT is unset.
 */
export async function runServiceIfMain(
  moduleUrl: string,
  defaults: { port: number },
  start: (env: ServiceEnv) => Promise<{ service: ServiceHandle; started: string }>,
): Promise<void> {
  if (!isMain(moduleUrl)) return;
  const { service, started } = await start(serviceEnv(defaults.port));
  console.log(started);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void service.close().then(() => process.exit(0)));
  }
}

function serviceEnv(defaultPort: number): ServiceEnv {
  const env = process.env;
  return {
    port: Number(env.PORT ?? defaultPort),
    host: env.HOST,
    redisUrl: env.REDIS_URL ?? "redis://127.0.0.1:6379",
    internalToken: env.INTERNAL_TOKEN ?? "",
    require(name, hint) {
      const value = env[name];
      if (!value) throw new Error(`set ${name} (${hint})`);
      return value;
    },
  };
}
