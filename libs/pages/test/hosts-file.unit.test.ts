import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyHostsBlock, type HostsEntry, renderHostsBlock, updateHostsFile } from "../src/index.ts";

const entries: HostsEntry[] = [
  { hostname: "pr-2.preview.test", address: "127.0.0.1" },
  { hostname: "pr-1.preview.test", address: "127.0.0.1" },
  { hostname: "pr-1.preview.test", address: "::1" },
];
const begin = "# BEGIN edgeplane";
const end = "# END edgeplane";

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe("renderHostsBlock", () => {
  it("renders sorted, de-duplicated lines between the markers", () => {
    expect(renderHostsBlock([...entries, entries[0] as HostsEntry])).toBe(
      [
        begin,
        "# Managed by edgeplane: changes between these markers are overwritten.",
        "127.0.0.1 pr-1.preview.test",
        "::1 pr-1.preview.test",
        "127.0.0.1 pr-2.preview.test",
        end,
        "",
      ].join("\n"),
    );
    expect(renderHostsBlock([...entries].reverse())).toBe(renderHostsBlock(entries));
  });
});

describe("updateHostsFile", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeplane-hosts-"));
    path = join(dir, "hosts");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function bytes(): Promise<Buffer> {
    return readFile(path);
  }

  it("appends one block and keeps unrelated content byte for byte, twice over", async () => {
    const original = "127.0.0.1\tlocalhost\r\n::1 localhost ip6-localhost\n# caf\xe9 \xff raw bytes\n";
    await writeFile(path, Buffer.from(original, "latin1"));
    expect(await updateHostsFile(path, entries)).toEqual({ changed: true });
    const first = await bytes();
    expect(await updateHostsFile(path, entries)).toEqual({ changed: false });
    const second = await bytes();
    expect(second.equals(first)).toBe(true);
    const text = second.toString("latin1");
    expect(text.startsWith(original)).toBe(true);
    expect(text.slice(original.length)).toBe(renderHostsBlock(entries, "\r\n"));
    expect(count(text, begin)).toBe(1);
    expect(count(text, end)).toBe(1);
  });

  it("terminates an unterminated last line before appending", async () => {
    await writeFile(path, "127.0.0.1 localhost");
    await updateHostsFile(path, entries);
    expect(await readFile(path, "utf8")).toBe(`127.0.0.1 localhost\n${renderHostsBlock(entries)}`);
  });

  it("replaces the block in place when entries change, keeping what surrounds it", async () => {
    const before = "127.0.0.1 localhost\r\n\r\n";
    const after = "\n# after the block\r\n10.0.0.1 intranet.test";
    await writeFile(path, `${before}${begin}\nold lines\n${end}\n${after}`);
    await updateHostsFile(path, entries);
    const changed = [{ hostname: "pr-9.preview.test", address: "192.0.2.9" }];
    await updateHostsFile(path, changed);
    const text = await readFile(path, "utf8");
    expect(text).toBe(`${before}${renderHostsBlock(changed)}${after}`);
    expect(text).not.toContain("pr-1.preview.test");
  });

  it("keeps a block at the very end without a trailing newline, and its CRLF markers", async () => {
    const before = "127.0.0.1 localhost\r\n";
    await writeFile(path, `${before}${begin}\r\n${end}`);
    await updateHostsFile(path, entries);
    await updateHostsFile(path, entries);
    expect(await readFile(path, "utf8")).toBe(before + renderHostsBlock(entries, "\r\n").slice(0, -2));
  });

  it("empties the block but keeps its markers when there are no entries", async () => {
    const original = "127.0.0.1 localhost\n";
    await writeFile(path, original);
    await updateHostsFile(path, entries);
    await updateHostsFile(path, []);
    expect(await readFile(path, "utf8")).toBe(original + renderHostsBlock([]));
    expect(await updateHostsFile(path, [])).toEqual({ changed: false });
  });

  it("leaves a file without a block untouched when there are no entries", async () => {
    await writeFile(path, "127.0.0.1 localhost");
    expect(await updateHostsFile(path, [])).toEqual({ changed: false });
    expect(await readFile(path, "utf8")).toBe("127.0.0.1 localhost");
  });

  it("preserves the file mode, follows a symlink, and leaves no temp files", async () => {
    await writeFile(path, "127.0.0.1 localhost\n");
    await chmod(path, 0o640);
    const link = join(dir, "hosts-link");
    await symlink(path, link);
    await updateHostsFile(link, entries);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readFile(path, "utf8")).toContain("pr-1.preview.test");
    expect((await readdir(dir)).sort()).toEqual(["hosts", "hosts-link"]);
  });

  it("creates a missing file only when there is something to write", async () => {
    expect(await updateHostsFile(path, [])).toEqual({ changed: false });
    expect(await readdir(dir)).toEqual([]);
    await updateHostsFile(path, entries);
    expect(await readFile(path, "utf8")).toBe(renderHostsBlock(entries));
  });

  it("refuses invalid entries with a clear error and leaves the file unchanged", async () => {
    const original = `127.0.0.1 localhost\n${renderHostsBlock(entries)}`;
    await writeFile(path, original);
    const invalid: HostsEntry[][] = [
      [{ hostname: "PR-1.preview.test", address: "127.0.0.1" }],
      [{ hostname: "*.preview.test", address: "127.0.0.1" }],
      [{ hostname: "evil.test\n0.0.0.0 bank.test", address: "127.0.0.1" }],
      [{ hostname: "a..test", address: "127.0.0.1" }],
      [{ hostname: "pr-1.preview.test", address: "localhost" }],
      [{ hostname: "pr-1.preview.test", address: "127.0.0.1 # x" }],
      [{ hostname: "pr-1.preview.test", address: "256.0.0.1" }],
      [{ hostname: "pr-1.preview.test", address: "fe80::1%eth0" }],
    ];
    for (const input of invalid) {
      await expect(updateHostsFile(path, [...entries, ...input])).rejects.toThrow(
        /invalid hosts entries: entry 3/,
      );
    }
    await expect(updateHostsFile(path, invalid[0] as HostsEntry[])).rejects.toThrow(
      'entry 0 hostname ("PR-1.preview.test") must be a lowercase DNS name',
    );
    expect(await readFile(path, "utf8")).toBe(original);
    expect(await readdir(dir)).toEqual(["hosts"]);
  });

  it("refuses a malformed block rather than guess", async () => {
    for (const original of [
      `${begin}\n1.1.1.1 a.test\n`,
      `${end}\n${begin}\n`,
      `${begin}\n${end}\n${begin}\n${end}\n`,
    ]) {
      await writeFile(path, original);
      await expect(updateHostsFile(path, entries)).rejects.toThrow(/malformed edgeplane block/);
      expect(await readFile(path, "utf8")).toBe(original);
    }
  });
});

describe("applyHostsBlock", () => {
  it("is idempotent on arbitrary surrounding content", () => {
    for (const content of ["", "\n", "\r\n", "a", "a\r\nb", "a\nb\n", "\n\n# x\r\n"]) {
      const once = applyHostsBlock(content, entries);
      expect(once.startsWith(content)).toBe(true);
      expect(applyHostsBlock(once, entries)).toBe(once);
      expect(count(once, begin)).toBe(1);
    }
  });
});
