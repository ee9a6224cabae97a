CREATE TABLE "api_keys" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"owner_id" text NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "click_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"link_id" bigint NOT NULL,
	"slug" text NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"country" text,
	"referrer_host" text,
	"device" text NOT NULL,
	"browser" text NOT NULL,
	"os" text NOT NULL,
	"is_bot" boolean NOT NULL,
	"visitor_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "click_rollups" (
	"link_id" bigint NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"is_bot" boolean NOT NULL,
	"country" text NOT NULL,
	"referrer_host" text NOT NULL,
	"device" text NOT NULL,
	"browser" text NOT NULL,
	"os" text NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "click_rollups_pk" PRIMARY KEY("link_id","hour","is_bot","country","referrer_host","device","browser","os")
);
--> statement-breakpoint
CREATE TABLE "links" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"url" text NOT NULL,
	"status_code" smallint DEFAULT 302 NOT NULL,
	"expires_at" timestamp with time zone,
	"max_clicks" integer,
	"external_id" text,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"owner_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "click_events_link_ts" ON "click_events" USING btree ("link_id","ts");--> statement-breakpoint
CREATE UNIQUE INDEX "links_slug_live" ON "links" USING btree ("slug") WHERE "links"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "links_owner_external_live" ON "links" USING btree ("owner_id","external_id") WHERE "links"."deleted_at" is null and "links"."external_id" is not null;--> statement-breakpoint
CREATE INDEX "links_owner_id" ON "links" USING btree ("owner_id","id");