import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalCa, issueCertificate, type LocalCa } from "@edgeplane/tls";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CertificateReader,
  certificateFileName,
  certificatePem,
  installCertificate,
  writeKeyMaterial,
} from "../src/certificate-files.ts";
import { GatewayConfigError } from "../src/errors.ts";

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

describe("reading certificates for the gateway", () => {
  let dir: string;
  let ca: LocalCa;
  beforeAll(async () => {
    ca = await createLocalCa({ commonName: "edgeplane reader test CA" });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeplane-read-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the files writeKeyMaterial wrote, and reads them again once they change", async () => {
    const first = await issueCertificate(ca, { hostnames: ["*.preview.test"] });
    await writeKeyMaterial(dir, "_wildcard.preview.test", first);
    const reader = new CertificateReader(dir);
    expect(await reader.read(["_wildcard.preview.test"])).toEqual(
      new Map([["_wildcard.preview.test", certificatePem(first)]]),
    );
    // CRLF, text before a block and blank lines between blocks: what nginx reads, as nginx reads it
    const pem = certificatePem(first);
    const crlf = (text: string) => text.replaceAll("\n", "\r\n");
    await writeFile(
      join(dir, "_wildcard.preview.test.crt"),
      `leaf:\n${crlf(pem.chain.replace("-\n-", "-\n\n-"))}`,
    );
    await writeFile(join(dir, "_wildcard.preview.test.key"), crlf(pem.key));
    expect((await reader.read(["_wildcard.preview.test"])).get("_wildcard.preview.test")).toEqual(pem);
    const renewed = await issueCertificate(ca, { hostnames: ["*.preview.test"] });
    await writeKeyMaterial(dir, "_wildcard.preview.test", renewed);
    expect((await reader.read(["_wildcard.preview.test"])).get("_wildcard.preview.test")).toEqual(
      certificatePem(renewed),
    );
  });

  it("refuses files nginx could not present, without saying what the key is", async () => {
    const leaf = await issueCertificate(ca, { hostnames: ["a.preview.test"] });
    const other = await issueCertificate(ca, { hostnames: ["b.preview.test"] });
    const reader = new CertificateReader(dir);
    const refused = async (problem: RegExp) => {
      const error = await reader.read(["a.preview.test"]).catch((e: Error) => e);
      expect(error).toBeInstanceOf(GatewayConfigError);
      expect((error as Error).message).toMatch(problem);
      expect((error as Error).message).not.toContain("PRIVATE KEY");
    };
    await refused(/cannot read/);
    await writeKeyMaterial(dir, "a.preview.test", { ...leaf, keyPem: other.keyPem });
    await refused(/does not belong/);
    await writeKeyMaterial(dir, "a.preview.test", { ...leaf, keyPem: leaf.certPem });
    await refused(/not one PEM private key/);
    await writeKeyMaterial(dir, "a.preview.test", { ...leaf, certPem: "not a certificate", chainPem: "" });
    await refused(/not PEM certificates/);
    // a file that once passed is checked again when it changes
    await writeKeyMaterial(dir, "a.preview.test", leaf);
    expect((await reader.read(["a.preview.test"])).size).toBe(1);
    await writeFile(join(dir, "a.preview.test.key"), certificatePem(other).key);
    await refused(/does not belong/);
    await expect(reader.read(["../a.preview.test"])).rejects.toThrow(GatewayConfigError);
  });
});
