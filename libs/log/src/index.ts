import { type Logger, pino } from "pino";

export type { Logger };

/** Paths redacted everywhere: a secret that reaches a log line is a leak. */
const REDACT = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "webhookSecret",
  "*.webhookSecret",
  "password",
  "*.password",
  "privateKey",
  "*.privateKey",
];

export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? "info",
  destination?: { write(line: string): void },
): Logger {
  const options = {
    name,
    level,
    base: { app: name },
    redact: { paths: REDACT, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // stdout written asynchronously: a busy process (the API logs every request) never blocks on a
  // full pipe, and lines written while a write is under way go out together. What is still
  // buffered is written synchronously when the process exits (pino flushes it on exit).
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}
