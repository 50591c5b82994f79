ALTER TABLE "environments" ADD COLUMN "last_request_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "sleeping_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "protection" jsonb DEFAULT '{"mode":"off"}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "bypass_token_hash" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "sleep_after_seconds" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "sleep_fixed" boolean DEFAULT false NOT NULL;