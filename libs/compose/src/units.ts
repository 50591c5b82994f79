const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(h|ms|m|s|us)/y;
const MICROS: Record<string, number> = { h: 3_600_000_000, m: 60_000_000, s: 1_000_000, ms: 1_000, us: 1 };

/**
 * A compose duration in milliseconds: parts of a number and a unit (`h`, `m`, `s`, `ms`, `us`) written
 * together, such as `10s`, `1m30s`, `500ms`, `1.5s`, or a bare `0`. Null if it is not one, or if it is
 * finer than a millisecond.
 */
export function parseDuration(text: string): number | null {
  if (text === "0") return 0;
  if (text.length === 0) return null;
  let micros = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const match = DURATION_PART.exec(text);
    if (!match) return null;
    micros += Number(match[1]) * (MICROS[match[2] ?? ""] ?? Number.NaN);
  }
  const rounded = Math.round(micros);
  if (!Number.isSafeInteger(rounded) || rounded % 1000 !== 0) return null;
  return rounded / 1000;
}

const BYTE_SIZE = /^(\d+(?:\.\d+)?|\.\d+)\s*([kmgt]?)(?:i?b)?$/i;
const POWERS: Record<string, number> = { "": 0, k: 1, m: 2, g: 3, t: 4 };

/**
 * A byte size as docker-compose reads it: a number of bytes, or a number with a unit `b`, `k`, `m`,
 * `g`, `t` (any case, optionally followed by `b` or `ib`), each 1024 of the one before: `512M`, `1g`,
 * `1.5G`, `268435456`. Null if it is not one.
 */
export function parseByteSize(value: string | number): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const match = BYTE_SIZE.exec(value.trim());
  if (!match) return null;
  const power = POWERS[(match[2] ?? "").toLowerCase()] ?? 0;
  const bytes = Math.round(Number(match[1]) * 1024 ** power);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

const DECIMAL = /^(\d+(?:\.\d+)?|\.\d+)$/;

/** A CPU count (`0.5`, `"2"`) in thousandths of a CPU, rounded to the nearest; null if it is not one. */
export function parseCpuMillis(value: string | number): number | null {
  const cpus = typeof value === "number" ? value : DECIMAL.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(cpus) || cpus < 0) return null;
  return Math.round(cpus * 1000);
}
