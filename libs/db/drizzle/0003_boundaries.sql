CREATE TABLE "environment_networks" (
	"subnet_index" integer PRIMARY KEY NOT NULL,
	"environment_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "environment_networks_environment_id_unique" UNIQUE("environment_id")
);
--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "observed_address" text;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "routed_address" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "max_environments" integer DEFAULT 50 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "body_sha256" text;--> statement-breakpoint
ALTER TABLE "environment_networks" ADD CONSTRAINT "environment_networks_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_body_sha256_unique" UNIQUE("body_sha256");