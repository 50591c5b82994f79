import type { z } from "zod";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses the environment with the app's schema, once, at boot. A bad value throws a
 * ConfigError whose message names every offending variable (never its value: it may be a secret).
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)";
    return `  ${name}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}

/** Runs `main`, turning a ConfigError into a one-paragraph message and exit code 78 (EX_CONFIG). */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
