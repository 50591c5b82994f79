import { z } from "zod";
import { ComposeError } from "./error.ts";
import type { Healthcheck } from "./types.ts";
import { parseDuration } from "./units.ts";
import { at, check, expectList, scalarString } from "./values.ts";
import { literal } from "./variables.ts";

const DURATION = "must be a duration such as 10s, 1m30s or 500ms";

const healthcheckShape = z.strictObject(
  {
    test: z.unknown().optional(),
    interval: z.string({ error: DURATION }).optional(),
    timeout: z.string({ error: DURATION }).optional(),
    start_period: z.string({ error: DURATION }).optional(),
    /** Accepted and ignored: probes during the start period keep the regular interval. */
    start_interval: z.string({ error: DURATION }).optional(),
    retries: z.int({ error: "must be a whole number of at least 1" }).min(1, "must be at least 1").optional(),
    disable: z.boolean({ error: "must be true or false" }).optional(),
  },
  { error: "must be a mapping" },
);

function duration(
  value: string | undefined,
  fallbackMs: number,
  path: string,
  { positive = true } = {},
): number {
  if (value === undefined) return fallbackMs;
  const ms = parseDuration(value);
  if (ms === null) throw new ComposeError(path, `"${value}" ${DURATION} (whole milliseconds)`);
  if (positive && ms === 0) throw new ComposeError(path, "must be longer than 0");
  return ms;
}

/** Docker's test form, or null for `["NONE"]`. A string is a shell line, as `["CMD-SHELL", line]`. */
function testCommand(value: unknown, path: string): string[] | null {
  if (typeof value === "string") return ["CMD-SHELL", literal(value, path)];
  const [kind, ...args] = expectList(value, path).map((word, index) =>
    literal(scalarString(word, at(path, index)), at(path, index)),
  );
  if (kind === "NONE" && args.length === 0) return null;
  if (kind === "CMD" && args.length > 0) return ["CMD", ...args];
  if (kind === "CMD-SHELL" && args.length === 1) return ["CMD-SHELL", ...args];
  throw new ComposeError(
    path,
    'must be ["CMD", program, ...args], ["CMD-SHELL", "shell line"], a shell line, or ["NONE"]',
  );
}

/**
 * A service's healthcheck with compose's defaults (interval 30s, timeout 30s, 3 retries, no start
 * period), or null when there is none, `disable: true` or a test of `["NONE"]`. A test is required:
 * edgeplane does not fall back on the image's HEALTHCHECK.
 */
export function healthcheck(value: unknown, path: string): Healthcheck | null {
  if (value === undefined) return null;
  const options = check(healthcheckShape, value, path);
  if (options.disable) return null;
  if (options.test === undefined) {
    throw new ComposeError(at(path, "test"), "is required: edgeplane does not use the image's HEALTHCHECK");
  }
  const test = testCommand(options.test, at(path, "test"));
  if (test === null) return null;
  duration(options.start_interval, 0, at(path, "start_interval"), { positive: false }); // checked, not used
  return {
    test,
    intervalMs: duration(options.interval, 30_000, at(path, "interval")),
    timeoutMs: duration(options.timeout, 30_000, at(path, "timeout")),
    retries: options.retries ?? 3,
    startPeriodMs: duration(options.start_period, 0, at(path, "start_period"), { positive: false }),
  };
}
