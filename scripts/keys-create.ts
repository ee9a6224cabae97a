/**
 * Creates an API key straight in Postgres, for bootstrapping without the API:
 *   DATABASE_URL=… npm run keys:create -- --name ci --scopes links:read,links:write [--owner team-a]
 * Prints the secret once; only its SHA-256 hash is stored.
 */
import { parseArgs } from "node:util";
import { displayPrefix, generateApiKey, hashApiKey } from "@shared/api-keys";
import pg from "pg";
import { ADMIN_OWNER, isReservedOwner, SCOPES } from "../shared/api-keys";

const { values } = parseArgs({
  options: { name: { type: "string" }, scopes: { type: "string" }, owner: { type: "string" } },
});
const url = process.env.DATABASE_URL;
const scopes = (values.scopes ?? "").split(",").filter(Boolean);
const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
const reserved = values.owner !== undefined && isReservedOwner(values.owner);
if (!url || !values.name || scopes.length === 0 || unknown.length || reserved) {
  console.error(
    `usage: DATABASE_URL=… npm run keys:create -- --name NAME --scopes ${SCOPES.join(",")} [--owner OWNER]` +
      (unknown.length ? `\nunknown scopes: ${unknown.join(", ")}` : "") +
      (reserved ? `\nthe owner "${ADMIN_OWNER}" is reserved for the admin token` : ""),
  );
  process.exit(2);
}
const key = generateApiKey();
const owner = values.owner ?? `owner_${crypto.randomUUID().slice(0, 12)}`;
const client = new pg.Client({ connectionString: url });
await client.connect();
const { rows } = await client.query(
  "insert into api_keys (name, owner_id, key_hash, prefix, scopes) values ($1, $2, $3, $4, $5) returning id",
  [values.name, owner, await hashApiKey(key), displayPrefix(key), scopes],
);
await client.end();
console.log(JSON.stringify({ id: rows[0].id, name: values.name, ownerId: owner, scopes, key }, null, 2));
console.error("Store the key now: it is not shown again.");
