import { createLogger } from "@edgeplane/log";
import { createApp } from "../../src/app.ts";
import { URLS } from "../support.ts";

// The API's operations as its own OpenAPI document lists them, read when a test file is collected
// (so `it.each` can name each one): a route added to the app is covered without touching the tests.

type Schema = { example?: unknown };
interface Parameter {
  name: string;
  in: string;
  schema?: Schema;
  example?: unknown;
}
interface Operation {
  operationId: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema; example?: unknown }> };
  "x-edgeplane-scope"?: "admin" | "deploy" | "read";
  "x-edgeplane-project"?: boolean;
}

export interface DocumentedOperation {
  id: string;
  method: string;
  /** The path as documented, e.g. `/v1/projects/{project}`. */
  path: string;
  operation: Operation;
  /** Whether it needs a bearer token. */
  protected: boolean;
  scope?: "admin" | "deploy" | "read";
  perProject: boolean;
}

/** The document, built by an app whose routes are never called (no database is needed for it). */
export async function contractDocument() {
  const app = createApp({
    services: { db: {} as never, producer: {} as never, urls: URLS },
    adminToken: "unused",
    log: createLogger("api-contract", "silent"),
    bodyLimitBytes: 4096,
    checkReady: async () => {},
  });
  const res = await app.request("/v1/openapi.json");
  const document = (await res.json()) as { paths: Record<string, Record<string, Operation>> };
  return { app, document };
}

export function operationsOf(document: { paths: Record<string, Record<string, Operation>> }) {
  const operations: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      operations.push({
        id: operation.operationId,
        method: method.toUpperCase(),
        path,
        operation,
        protected: (operation.security ?? []).length > 0,
        ...(operation["x-edgeplane-scope"] ? { scope: operation["x-edgeplane-scope"] } : {}),
        perProject: operation["x-edgeplane-project"] === true,
      });
    }
  }
  return operations;
}

/** The path with each parameter filled: from `values` when given, else the parameter's example. */
export function fillPath(op: DocumentedOperation, values: Record<string, string> = {}): string {
  return op.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const parameter = op.operation.parameters?.find((p) => p.in === "path" && p.name === name);
    const value = values[name] ?? parameter?.schema?.example ?? parameter?.example;
    if (typeof value !== "string") throw new Error(`${op.id}: no example for the path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

/** The documented example of the JSON request body, if the operation takes one. */
export function exampleBody(op: DocumentedOperation): { json: unknown } | Record<string, never> {
  const content = op.operation.requestBody?.content["application/json"];
  if (!content) return {};
  const example = content.example ?? content.schema?.example;
  if (example === undefined) throw new Error(`${op.id}: no example for the request body`);
  return { json: example };
}
