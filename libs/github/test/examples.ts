import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// Real webhook payloads published by GitHub's octokit project, one list of examples per event name.
interface WebhookDefinition {
  name: string;
  examples: Record<string, unknown>[];
}

const definitions: WebhookDefinition[] = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve("@octokit/webhooks-examples"), "utf8"),
);

export function examplesOf(event: string): Record<string, unknown>[] {
  const definition = definitions.find((d) => d.name === event);
  if (!definition) throw new Error(`no examples for ${event}`);
  return definition.examples;
}

/** A deep copy of the first example of `event` with the given action, safe to modify. */
export function example(event: string, action?: string): Record<string, unknown> {
  const found = examplesOf(event).find((e) => action === undefined || e.action === action);
  if (!found) throw new Error(`no ${event} example with action ${action}`);
  return structuredClone(found);
}
