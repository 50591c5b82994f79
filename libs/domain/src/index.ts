export * from "./errors.ts";
export * from "./image-ref.ts";
export * from "./names.ts";
