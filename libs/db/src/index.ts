export { and, asc, desc, eq, inArray, isNotNull, isNull, lt, ne, notInArray, or, sql } from "drizzle-orm";
export * from "./client.ts";
export * from "./migrate.ts";
export * from "./schema/index.ts";
