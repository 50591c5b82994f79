import { GatewayConfigError } from "./errors.ts";

/** One line of a map: a host (or `*.{domain}`) and what it maps to. */
export interface MapEntry {
  key: string;
  value: string;
  /** Said after the entry, for a reader of the config (an environment id). */
  note?: string;
}

// Words a map block reads as its own parameters (`include` even takes a file): a key spelled like
// one of them is escaped with a backslash, which nginx strips.
const MAP_WORDS = new Set(["default", "hostnames", "include", "volatile"]);

// The last guard on what a map line may hold: hostnames, `*.` wildcards, certificate names,
// `ip:port`, `[ipv6]:port`, `@location`, `$variable`, PEM text in quotes (its new lines written `\n`).
// Every value was validated before; nothing else gets this far.
const KEY = /^(?:(?:\*\.|_wildcard\.)?[a-z0-9.-]+|@[a-z_]+)$/;
const VALUE = /^(?:[@$]?[A-Za-z0-9_.:-]+|\[[0-9A-Fa-f:.]+\]:[0-9]+|"(?:[A-Za-z0-9+/= -]|\\n)+")$/;
const NOTE = /^[a-z0-9_]+$/;

/** The hash sizes nginx needs for some hashes of names (all maps share one setting, all server names another). */
export interface HashSizes {
  bucketSize: number;
  maxSize: number;
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * A hash entry takes a pointer and the name with its length, aligned (8 + align(length + 2, 8) bytes),
 * and a bucket ends in a pointer. Buckets hold at least eight of the longest name (a dozen typical
 * ones at the least, 512): nginx stores only what a bucket holds, so room costs nothing. It tries
 * table sizes from small up to `maxSize` and keeps the first where every bucket fits; without one it
 * only warns and builds a slow hash. Twice the names always leaves room (beyond 10000 nginx tries the
 * last thousand sizes only, still about twice the names).
 */
export function hashSizes(hashes: string[][]): HashSizes {
  let count = 0;
  let longest = 0;
  for (const names of hashes) {
    count = Math.max(count, names.length);
    for (const name of names) longest = Math.max(longest, name.length);
  }
  const entry = 8 + align(longest + 2, 8);
  return { bucketSize: Math.max(512, align(8 + 8 * entry, 64)), maxSize: Math.max(2048, 2 * count) };
}

/** `map {source} {variable} { … }`, entries in code-unit order by key; `hostnames` allows wildcards. */
export function renderMap(
  comment: string,
  source: string,
  variable: string,
  entries: MapEntry[],
  options: { hostnames?: boolean; default?: string } = {},
): string {
  const lines: string[] = [];
  if (options.hostnames) lines.push("    hostnames;\n");
  if (options.default !== undefined) lines.push(`    default ${checked(options.default, VALUE)};\n`);
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { key, value, note } of sorted) {
    const escaped = MAP_WORDS.has(checked(key, KEY)) ? `\\${key}` : key;
    const after = note === undefined ? "" : ` # ${checked(note, NOTE)}`;
    lines.push(`    ${escaped} ${checked(value, VALUE)};${after}\n`);
  }
  return `
  # ${comment}
  map ${source} ${variable} {
${lines.join("")}  }
`;
}

function checked(text: string, pattern: RegExp): string {
  if (!pattern.test(text)) throw new GatewayConfigError(`refusing map text ${JSON.stringify(text)}`);
  return text;
}
