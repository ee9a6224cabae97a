import { type NotNull, sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  type PgTextBuilderInitial,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { DIMENSIONS, type DimensionField, type NullableField } from "../analytics/dimensions";
import type { LinkPreview, LinkRule, Utm } from "../links/rules";

/** Postgres is the source of truth for links, keys and analytics (ARCHITECTURE.md §3). */

export const links = pgTable(
  "links",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** The short domain, normalized (shared/domains/host.ts); "" is the default domain. */
    domain: text("domain").notNull().default(""),
    slug: text("slug").notNull(),
    url: text("url").notNull(),
    statusCode: smallint("status_code").notNull().default(302),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    maxClicks: integer("max_clicks"),
    externalId: text("external_id"),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    /** Redirect rules in order (docs/api.md); their targets passed the same rules as `url`. */
    rules: jsonb("rules").$type<LinkRule[]>().notNull().default(sql`'[]'::jsonb`),
    /** PBKDF2 hash of the link's password (worker/src/services/link-password.ts); null: no password. */
    passwordHash: text("password_hash"),
    preview: jsonb("preview").$type<LinkPreview>(),
    /** Null: the deployment's default (FORWARD_QUERY). */
    forwardQuery: boolean("forward_query"),
    utm: jsonb("utm").$type<Utm>(),
    ownerId: text("owner_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    // A deleted link frees its slug; its rows stay for the analytics that refer to them.
    // A slug is unique per domain: acme.link/launch and acme.de/launch are two links.
    uniqueIndex("links_domain_slug_live").on(t.domain, t.slug).where(sql`${t.deletedAt} is null`),
    uniqueIndex("links_owner_external_live")
      .on(t.ownerId, t.externalId)
      .where(sql`${t.deletedAt} is null and ${t.externalId} is not null`),
    index("links_owner_id").on(t.ownerId, t.id),
  ],
);

/**
 * The short domains a deployment answers for besides its default one (PUBLIC_BASE_URL's host),
 * which may have a row too, for its redirects and owners. Published whole to KV
 * (DOMAIN_TABLE_KEY) for the edge.
 */
export const domains = pgTable("domains", {
  /** Normalized host, with a port only when it is not 80 or 443 (shared/domains/host.ts). */
  name: text("name").primaryKey(),
  /** Where an unknown slug on this domain goes; null: the 404 problem. */
  notFoundUrl: text("not_found_url"),
  /** Where the bare domain (`/`) goes; null: the 404 problem. */
  baseUrl: text("base_url"),
  /** Owners whose keys may use this domain; null: every owner. The admin token always may. */
  allowedOwners: text("allowed_owners").array(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const apiKeys = pgTable("api_keys", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  name: text("name").notNull(),
  ownerId: text("owner_id").notNull(),
  keyHash: text("key_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  scopes: text("scopes").array().notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

export const clickEvents = pgTable(
  "click_events",
  {
    id: uuid("id").primaryKey(),
    linkId: bigint("link_id", { mode: "number" }).notNull(),
    slug: text("slug").notNull(),
    ts: timestamp("ts", { withTimezone: true }).notNull(),
    ...dimensionColumns("event"),
    isBot: boolean("is_bot").notNull(),
    visitorHash: text("visitor_hash").notNull(),
  },
  (t) => [index("click_events_link_ts").on(t.linkId, t.ts)],
);

/** Hourly counts by every dimension the stats API groups by; upserted with count = count + excluded.count. */
export const clickRollups = pgTable(
  "click_rollups",
  {
    linkId: bigint("link_id", { mode: "number" }).notNull(),
    hour: timestamp("hour", { withTimezone: true }).notNull(),
    isBot: boolean("is_bot").notNull(),
    ...dimensionColumns("rollup"),
    count: bigint("count", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({
      name: "click_rollups_pk",
      columns: [t.linkId, t.hour, t.isBot, ...DIMENSIONS.map((d) => t[d.field])],
    }),
  ],
);

type TextColumn = PgTextBuilderInitial<string, [string, ...string[]]>;
type DimensionColumns<Table extends "event" | "rollup"> = {
  [K in DimensionField]: [Table, K] extends ["event", NullableField] ? TextColumn : NotNull<TextColumn>;
};

/**
 * A text column per click dimension, in list order. In click_events a `nullable`
 * dimension may be null; in click_rollups every one is part of the key, so none is.
 */
function dimensionColumns<Table extends "event" | "rollup">(table: Table): DimensionColumns<Table> {
  const columns: Partial<Record<DimensionField, TextColumn | NotNull<TextColumn>>> = {};
  for (const d of DIMENSIONS) {
    columns[d.field] = table === "event" && d.nullable ? text(d.column) : text(d.column).notNull();
  }
  // Complete: the loop made every field, nullable exactly as the type says.
  return columns as DimensionColumns<Table>;
}

export type Link = typeof links.$inferSelect;
export type Domain = typeof domains.$inferSelect;
export type NewLink = typeof links.$inferInsert;
