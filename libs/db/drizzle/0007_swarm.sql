CREATE TABLE "swarm_ports" (
	"port" integer PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "swarm_ports_owner_unique" UNIQUE("owner")
);
--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "observed_node" text;