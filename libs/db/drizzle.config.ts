import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./libs/db/src/schema/index.ts",
  out: "./libs/db/drizzle",
});
