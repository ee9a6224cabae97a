CREATE TABLE "domains" (
	"name" text PRIMARY KEY NOT NULL,
	"not_found_url" text,
	"base_url" text,
	"allowed_owners" text[],
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Existing links, clicks and rollups belong to the default domain, stored as ''. The defaults also let
-- an edge and an aggregator older than this migration go on writing during a rolling deploy.
ALTER TABLE "links" ADD COLUMN "domain" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "click_events" ADD COLUMN "domain" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "click_rollups" ADD COLUMN "domain" text DEFAULT '' NOT NULL;--> statement-breakpoint
-- The new unique index before the old one goes, so live slugs are never without one.
CREATE UNIQUE INDEX "links_domain_slug_live" ON "links" USING btree ("domain","slug") WHERE "links"."deleted_at" is null;--> statement-breakpoint
DROP INDEX "links_slug_live";--> statement-breakpoint
ALTER TABLE "click_rollups" DROP CONSTRAINT "click_rollups_pk";
--> statement-breakpoint
ALTER TABLE "click_rollups" ADD CONSTRAINT "click_rollups_pk" PRIMARY KEY("link_id","hour","is_bot","country","referrer_host","device","browser","os","rule","domain");
