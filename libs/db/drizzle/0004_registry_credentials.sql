ALTER TABLE "projects" ADD COLUMN "registry_credentials" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "registry_credential_hosts" text[] DEFAULT '{}' NOT NULL;