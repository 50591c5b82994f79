export * from "./errors.ts";
export * from "./nginx.ts";
export * from "./paths.ts";
export * from "./render.ts";
export * from "./sites.ts";
export * from "./from-env.ts";
