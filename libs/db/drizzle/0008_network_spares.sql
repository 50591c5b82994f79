CREATE TABLE "network_spares" (
	"environment_id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "environment_networks" DROP CONSTRAINT "environment_networks_environment_id_environments_id_fk";
