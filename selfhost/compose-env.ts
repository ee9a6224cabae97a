/**
 * `npm run selfhost:compose-env`: writes the secrets docker-compose.test.yml requires into
 * `.env` (mode 0600, git-ignored), which Compose reads by itself. Values already there are
 * kept, so running it again only fills in what is missing. Compose refuses to start while
 * any of them is unset (`${VAR:?…}`): there is no default secret to fall back to.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isMain } from "./entry-point";
import { generateSecret, SECRET_ENV } from "./secrets";

/** Every secret of the Compose deployment: the runner's, plus Grafana's admin password. */
export const COMPOSE_SECRETS = [...Object.values(SECRET_ENV), "GRAFANA_ADMIN_PASSWORD"];

/** Adds a generated value for each secret `.env` at `path` lacks; returns the names it added. */
export function writeComposeEnv(path: string): string[] {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const present = new Set([...text.matchAll(/^\s*([A-Z0-9_]+)=./gm)].map((m) => m[1]));
  const added = COMPOSE_SECRETS.filter((name) => !present.has(name));
  const lines = added.map((name) => `${name}=${generateSecret()}`);
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileSync(path, `${text}${separator}${lines.join("\n")}${lines.length ? "\n" : ""}`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return added;
}

if (isMain(import.meta.url)) {
  const path = fileURLToPath(new URL("../.env", import.meta.url));
  const added = writeComposeEnv(path);
  console.log(added.length ? `generated ${added.join(", ")} into ${path}` : `${path} has every secret`);
}
