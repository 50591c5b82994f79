export * from "./common.ts";
export * from "./load.ts";
