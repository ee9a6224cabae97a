/**
 * The secrets of one self-hosted deployment, generated at its first start and kept in
 * `<dataDir>/secrets.json` (mode 0600), so a restart keeps its admin token, salt and
 * passwords. An environment variable of the same name overrides each (docs/security.md).
 *
 * @example const secrets = loadOrCreateSecrets(".selfhost/data");
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SelfhostSecrets {
  adminToken: string;
  visitorSalt: string;
  metricsToken: string;
  internalToken: string;
  postgresPassword: string;
  redisPassword: string;
}

/** The environment variable that overrides each secret. */
export const SECRET_ENV: Record<keyof SelfhostSecrets, string> = {
  adminToken: "ADMIN_TOKEN",
  visitorSalt: "VISITOR_SALT",
  metricsToken: "METRICS_TOKEN",
  internalToken: "INTERNAL_TOKEN",
  postgresPassword: "POSTGRES_PASSWORD",
  redisPassword: "REDIS_PASSWORD",
};

/** 32 random bytes, URL-safe: usable in a URL path, a header or a connection string as is. */
export const generateSecret = (): string => randomBytes(32).toString("base64url");

/** Reads `<dataDir>/secrets.json`, generating (once) whatever it lacks; the environment overrides each. */
export function loadOrCreateSecrets(dataDir: string): SelfhostSecrets {
  const file = join(dataDir, "secrets.json");
  const stored: Partial<SelfhostSecrets> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const names = Object.keys(SECRET_ENV) as Array<keyof SelfhostSecrets>;
  if (names.some((name) => !stored[name])) {
    for (const name of names) stored[name] ||= generateSecret();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    // writeFileSync's mode applies only when it creates the file.
    chmodSync(file, 0o600);
  }
  const secrets = stored as SelfhostSecrets;
  for (const name of names) secrets[name] = process.env[SECRET_ENV[name]] || secrets[name];
  return secrets;
}
