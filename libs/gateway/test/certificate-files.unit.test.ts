import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { certificateFileName, installCertificate, writeKeyMaterial } from "../src/certificate-files.ts";

it("maps wildcard names to plain file names", () => {
  expect(certificateFileName("*.preview.test")).toBe("_wildcard.preview.test");
  expect(certificateFileName("pr-1.preview.test")).toBe("pr-1.preview.test");
});

describe("writing key material", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeplane-store-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const material = { certPem: "LEAF", keyPem: "KEY\n", chainPem: "ROOT\n" };

  it("writes a full chain and a private key, leaving no temp files", async () => {
    const certs = join(dir, "certs");
    const { certPath, keyPath } = await writeKeyMaterial(certs, "pr-1.preview.test", material);
    expect(await readFile(certPath, "utf8")).toBe("LEAF\nROOT\n");
    expect(await readFile(keyPath, "utf8")).toBe("KEY\n");
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(certs)).mode & 0o777).toBe(0o700);
    await writeKeyMaterial(certs, "pr-1.preview.test", { ...material, keyPem: "KEY2" });
    expect(await readFile(keyPath, "utf8")).toBe("KEY2\n");
    expect((await readdir(certs)).sort()).toEqual(["pr-1.preview.test.crt", "pr-1.preview.test.key"]);
  });

  it("refuses names that are not plain file names", async () => {
    for (const name of ["../x", "a/b", "*.preview.test", "", ".hidden"]) {
      await expect(writeKeyMaterial(dir, name, material)).rejects.toThrow(/plain file name/);
    }
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("installing a certificate for the gateway", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeplane-install-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a wildcard under its file name and leaves files holding the same material untouched", async () => {
    const material = { certPem: "LEAF", keyPem: "KEY", chainPem: "ROOT" };
    await installCertificate(dir, "*.preview.test", material);
    const key = join(dir, "_wildcard.preview.test.key");
    expect(await readFile(key, "utf8")).toBe("KEY\n");
    const before = (await stat(key)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await installCertificate(dir, "*.preview.test", material);
    expect((await stat(key)).mtimeMs).toBe(before);
    await writeFile(key, "tampered");
    await installCertificate(dir, "*.preview.test", material);
    expect(await readFile(key, "utf8")).toBe("KEY\n");
  });
});
