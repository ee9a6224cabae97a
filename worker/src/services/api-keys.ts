import { displayPrefix, generateApiKey, hashApiKey } from "@shared/api-keys";
import type { Database } from "@shared/db/client";
import { apiKeys } from "@shared/db/schema";
import { notFound } from "@shared/problem";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Principal } from "../env";

export type ApiKeyView = {
  id: number;
  name: string;
  ownerId: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

type Row = typeof apiKeys.$inferSelect;

const view = (row: Row): ApiKeyView => ({
  id: row.id,
  name: row.name,
  ownerId: row.ownerId,
  prefix: row.prefix,
  scopes: row.scopes,
  createdAt: row.createdAt.toISOString(),
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** Creates a key for `input.ownerId`; the secret is in the result and nowhere else, ever. */
export async function createApiKey(
  db: Database,
  input: { name: string; scopes: string[]; ownerId: string },
): Promise<ApiKeyView & { key: string }> {
  const key = generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      name: input.name,
      ownerId: input.ownerId,
      keyHash: await hashApiKey(key),
      prefix: displayPrefix(key),
      scopes: input.scopes,
    })
    .returning();
  return { ...view(row as Row), key };
}

/** Keys of `ownerId`, or of every owner when it is undefined (the admin token). */
export async function listApiKeys(db: Database, ownerId: string | undefined): Promise<ApiKeyView[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(ownerId === undefined ? undefined : eq(apiKeys.ownerId, ownerId))
    .orderBy(desc(apiKeys.id))
    .limit(1000);
  return rows.map(view);
}

/**
 * Revokes at once: every later request with the key is refused. With `ownerId`, another
 * owner's key is the same 404 as an unknown one, so its existence does not leak.
 */
export async function revokeApiKey(db: Database, id: number, ownerId: string | undefined): Promise<void> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        eq(apiKeys.id, id),
        isNull(apiKeys.revokedAt),
        ownerId === undefined ? undefined : eq(apiKeys.ownerId, ownerId),
      ),
    )
    .returning({ id: apiKeys.id });
  if (!row) throw notFound(`no active key with id ${id}`);
}

/**
 * The principal for a presented secret, or null. The lookup is by hash, so the
 * secret itself is never compared; a revoked key is the same as an unknown one.
 */
export async function principalForKey(
  db: Database,
  secret: string,
  background: { waitUntil(p: Promise<unknown>): void },
): Promise<Principal | null> {
  const [row] = await db
    .select({ id: apiKeys.id, ownerId: apiKeys.ownerId, scopes: apiKeys.scopes })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, await hashApiKey(secret)), isNull(apiKeys.revokedAt)))
    .limit(1);
  if (!row) return null;
  // At most one write a minute per key, after the response.
  background.waitUntil(
    db
      .update(apiKeys)
      .set({ lastUsedAt: sql`now()` })
      .where(
        and(
          eq(apiKeys.id, row.id),
          sql`(${apiKeys.lastUsedAt} is null or ${apiKeys.lastUsedAt} < now() - interval '1 minute')`,
        ),
      )
      .then(() => {})
      .catch(() => {}),
  );
  return { ownerId: row.ownerId, scopes: row.scopes, keyId: row.id };
}
