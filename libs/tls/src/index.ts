export * from "./dns-name.ts";
export * from "./local-ca.ts";
export * from "./store.ts";
