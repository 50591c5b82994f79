import { exitOnConfigError, loadConfig } from "@edgeplane/config";
import { z } from "zod";
import { migrateDatabase } from "./migrate.ts";

// `npm run db:migrate`: exits non-zero on failure, so nothing starts after a failed migration.
try {
  const env = loadConfig(
    z.object({ DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/edgeplane") }),
  );
  await migrateDatabase(env.DATABASE_URL);
  process.stdout.write("migrations applied\n");
} catch (error) {
  exitOnConfigError(error);
}
