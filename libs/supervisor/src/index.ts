export * from "./log-lines.ts";
export * from "./supervisor.ts";
