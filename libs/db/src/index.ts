export * from "./client.ts";
export * from "./ids.ts";
export * from "./migrate.ts";
export * from "./schema/index.ts";
export { and, asc, desc, eq, inArray, isNotNull, isNull, lt, ne, notInArray, or, sql } from "drizzle-orm";
