ALTER TABLE "click_events" ADD COLUMN "rule" text;--> statement-breakpoint
-- Rollups stored before redirect rules belong to no rule: '' (a key column cannot be null), as the writer stores it.
ALTER TABLE "click_rollups" ADD COLUMN "rule" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "click_rollups" ALTER COLUMN "rule" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "rules" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "password_hash" text;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "preview" jsonb;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "forward_query" boolean;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "utm" jsonb;--> statement-breakpoint
ALTER TABLE "click_rollups" DROP CONSTRAINT "click_rollups_pk";
--> statement-breakpoint
ALTER TABLE "click_rollups" ADD CONSTRAINT "click_rollups_pk" PRIMARY KEY("link_id","hour","is_bot","country","referrer_host","device","browser","os","rule");