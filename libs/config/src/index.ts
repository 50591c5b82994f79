export * from "./load.ts";
export * from "./common.ts";
