ALTER TABLE "deployments" ADD COLUMN "services" jsonb;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "desired_services" jsonb;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "observed_services" jsonb;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "routed_services" jsonb;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "compose" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "compose_spec" jsonb;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "primary_service" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "preview_images" jsonb;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "environment_memory_mb" integer DEFAULT 4096 NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "environment_cpu_millis" integer DEFAULT 8000 NOT NULL;