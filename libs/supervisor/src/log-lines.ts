const LEVELS: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};
const SKIP = new Set(["level", "time", "pid", "hostname", "name", "app", "msg", "v"]);

/** Turns one pino JSON line into `12:00:01 [api] info  message key=value`; other text passes through. */
export function formatLogLine(app: string, line: string, json = false): string {
  const prefix = `[${app}]`.padEnd(20);
  if (json) return `${prefix} ${line}`;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${prefix} ${line}`;
  }
  if (typeof record !== "object" || record === null) return `${prefix} ${line}`;
  const time =
    typeof record.time === "string" ? record.time.slice(11, 19) : new Date().toISOString().slice(11, 19);
  const level = (LEVELS[Number(record.level)] ?? "info").padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !SKIP.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${time} ${prefix} ${level} ${String(record.msg ?? "")}${fields ? `  ${fields}` : ""}`;
}
