export * from "./escape-html.ts";
export * from "./hosts-file.ts";
export * from "./status-page.ts";
export * from "./status-state.ts";
