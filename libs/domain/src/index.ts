export * from "./errors.ts";
export * from "./image-ref.ts";
export * from "./names.ts";
export * from "./runtime-ref.ts";
