import { randomBytes } from "node:crypto";
import { open, readFile, realpath, rename, rm, stat } from "node:fs/promises";
import { isIP } from "node:net";
import { basename, dirname, join } from "node:path";
import { isDnsName } from "@edgeplane/domain";
import { z } from "zod";

export const hostsEntrySchema = z.strictObject({
  hostname: z.string().refine((value) => isDnsName(value), "must be a lowercase DNS name without a wildcard"),
  address: z
    .string()
    .refine((address) => isIP(address) !== 0 && !address.includes("%"), "must be an IPv4 or IPv6 address"),
});
export type HostsEntry = z.infer<typeof hostsEntrySchema>;

export const hostsBlockBegin = "# BEGIN edgeplane";
export const hostsBlockEnd = "# END edgeplane";
const notice = "# Managed by edgeplane: changes between these markers are overwritten.";

type Eol = "\n" | "\r\n";

function parseEntries(entries: readonly HostsEntry[]): HostsEntry[] {
  const parsed = z.array(hostsEntrySchema).safeParse(entries);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const [index, field] = issue.path;
    const value =
      typeof index === "number" && typeof field === "string"
        ? entries[index]?.[field as keyof HostsEntry]
        : undefined;
    const shown = value === undefined ? "" : ` (${JSON.stringify(value)})`;
    return `entry ${String(index ?? "")}${field === undefined ? "" : ` ${String(field)}`}${shown} ${issue.message}`;
  });
  throw new Error(`invalid hosts entries: ${problems.join("; ")}`);
}

/**
 * The marked block for `entries`, one `address hostname` line each, sorted and without duplicates so the
 * same set always renders the same bytes. Ends with `eol`.
 */
export function renderHostsBlock(entries: readonly HostsEntry[], eol: Eol = "\n"): string {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = parseEntries(entries).sort(
    (a, b) => compare(a.hostname, b.hostname) || compare(a.address, b.address),
  );
  const lines = new Set(sorted.map((entry) => `${entry.address} ${entry.hostname}`));
  return [hostsBlockBegin, notice, ...lines, hostsBlockEnd].map((line) => line + eol).join("");
}

interface Line {
  text: string;
  start: number;
  /** Index just past the line's terminator (or the end of the content). */
  next: number;
  eol: Eol | "";
}

function splitLines(content: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < content.length) {
    const newline = content.indexOf("\n", start);
    const next = newline === -1 ? content.length : newline + 1;
    const raw = content.slice(start, newline === -1 ? next : newline);
    const crlf = newline !== -1 && raw.endsWith("\r");
    lines.push({
      text: crlf ? raw.slice(0, -1) : raw,
      start,
      next,
      eol: newline === -1 ? "" : crlf ? "\r\n" : "\n",
    });
    start = next;
  }
  return lines;
}

/** Finds the one edgeplane block; throws on a half or doubled block rather than guess which bytes are ours. */
function locateBlock(content: string): { begin: Line; end: Line } | undefined {
  const lines = splitLines(content);
  const begins = lines.filter((line) => line.text.trimEnd() === hostsBlockBegin);
  const ends = lines.filter((line) => line.text.trimEnd() === hostsBlockEnd);
  const [begin] = begins;
  const [end] = ends;
  if (begin === undefined && end === undefined) return undefined;
  if (
    begins.length !== 1 ||
    ends.length !== 1 ||
    begin === undefined ||
    end === undefined ||
    end.start < begin.start
  ) {
    throw new Error(
      `hosts file has a malformed edgeplane block (${begins.length} "${hostsBlockBegin}", ${ends.length} "${hostsBlockEnd}"); fix it by hand`,
    );
  }
  return { begin, end };
}

/**
 * The hosts file `content` with its edgeplane block set to `entries`. The block is replaced in place, with
 * the line ending its markers already use; every byte outside it is kept. Without a block, one is
 * appended using the file's first line ending, after terminating an unterminated last line (the only byte
 * added outside the block). No entries empties an existing block (its markers stay, so the block keeps
 * its place) and leaves a file without a block as it is.
 */
export function applyHostsBlock(content: string, entries: readonly HostsEntry[]): string {
  const block = locateBlock(content);
  if (block) {
    const eol: Eol = block.begin.eol === "\r\n" ? "\r\n" : "\n";
    let rendered = renderHostsBlock(entries, eol);
    if (block.end.eol === "") rendered = rendered.slice(0, -eol.length);
    return content.slice(0, block.begin.start) + rendered + content.slice(block.end.next);
  }
  if (parseEntries(entries).length === 0) return content;
  const eol: Eol = splitLines(content)[0]?.eol === "\r\n" ? "\r\n" : "\n";
  const separator = content === "" || content.endsWith("\n") ? "" : eol;
  return content + separator + renderHostsBlock(entries, eol);
}

/**
 * Sets the edgeplane block of the hosts file at `path` (see `applyHostsBlock`). Entries are validated
 * before the file is read, so invalid input never touches it. The file is read and written as raw bytes,
 * replaced atomically (temp file beside it, then rename) with its mode (and, as root, its owner) kept,
 * and not written at all when nothing changes. A symlink is followed and its target replaced. A file that
 * is a bind mount (as `/etc/hosts` is inside containers) cannot be replaced by rename; that fails loudly.
 */
export async function updateHostsFile(
  path: string,
  entries: readonly HostsEntry[],
): Promise<{ changed: boolean }> {
  parseEntries(entries);
  const target = await realpath(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return path;
    throw error;
  });
  const existing = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  const content = existing ? await readFile(target, "latin1") : "";
  const next = applyHostsBlock(content, entries);
  if (next === content) return { changed: false };

  const mode = existing ? existing.mode & 0o7777 : 0o644;
  const temp = join(dirname(target), `.${basename(target)}.edgeplane-${randomBytes(6).toString("hex")}.tmp`);
  const file = await open(temp, "wx", mode);
  try {
    await file.chmod(mode);
    if (existing && process.getuid?.() === 0) await file.chown(existing.uid, existing.gid);
    await file.writeFile(next, "latin1");
    await file.sync();
    await file.close();
    await rename(temp, target);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  return { changed: true };
}
