CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"repository" text,
	"outcome" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "head_sha" text;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "pr_state" text;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "pr_updated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "last_activity_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "github_deployment_id" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "repository" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "webhook_secret" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "preview_image" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "preview_ttl_hours" integer DEFAULT 72 NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "deploy_drafts" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "required_label" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "allow_forks" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "allowed_images" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "memory_mb" integer DEFAULT 512 NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "cpu_millis" integer DEFAULT 1000 NOT NULL;--> statement-breakpoint
CREATE INDEX "projects_repository" ON "projects" USING btree ("repository");