import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalCa, issueCertificate, type LocalCa } from "@edgeplane/tls";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CertificateCheck,
  certificateFileName,
  certificatePem,
  type KeyMaterial,
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

describe("checking certificates for the gateway", () => {
  let ca: LocalCa;
  beforeAll(async () => {
    ca = await createLocalCa({ commonName: "edgeplane check test CA" });
  });

  it("gives each named certificate's PEM as nginx reads it, and checks a changed one again", async () => {
    const first = await issueCertificate(ca, { hostnames: ["*.preview.test"] });
    const check = new CertificateCheck();
    const name = "_wildcard.preview.test";
    expect(check.pems([name, name], new Map([[name, first]]))).toEqual(
      new Map([[name, certificatePem(first)]]),
    );
    // CRLF, text before a block and blank lines between blocks: what nginx reads, as nginx reads it
    const crlf = (text: string) => text.replaceAll("\n", "\r\n");
    const messy = {
      certPem: `leaf:\n${crlf(first.certPem)}`,
      chainPem: `\n\n${crlf(first.chainPem)}`,
      keyPem: crlf(first.keyPem),
    };
    expect(check.pems([name], new Map([[name, messy]])).get(name)).toEqual(certificatePem(first));
    const renewed = await issueCertificate(ca, { hostnames: ["*.preview.test"] });
    expect(check.pems([name], new Map([[name, renewed]])).get(name)).toEqual(certificatePem(renewed));
  });

  it("refuses certificates nginx could not present, without saying what the key is", async () => {
    const leaf = await issueCertificate(ca, { hostnames: ["a.preview.test"] });
    const other = await issueCertificate(ca, { hostnames: ["b.preview.test"] });
    const check = new CertificateCheck();
    const name = "a.preview.test";
    const refused = (material: KeyMaterial | undefined, problem: RegExp) => {
      const given = new Map(material ? [[name, material]] : []);
      let error: unknown;
      try {
        check.pems([name], given);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GatewayConfigError);
      expect((error as Error).message).toMatch(problem);
      expect((error as Error).message).not.toContain("PRIVATE KEY");
    };
    refused(undefined, /not given/);
    refused({ ...leaf, keyPem: other.keyPem }, /does not belong/);
    refused({ ...leaf, keyPem: leaf.certPem }, /not one PEM private key/);
    refused({ ...leaf, certPem: "not a certificate", chainPem: "" }, /not PEM certificates/);
    // one that once passed is checked again when it changes
    expect(check.pems([name], new Map([[name, leaf]])).size).toBe(1);
    refused({ ...leaf, keyPem: other.keyPem }, /does not belong/);
    expect(() => check.pems(["../a.preview.test"], new Map([["../a.preview.test", leaf]]))).toThrow(
      GatewayConfigError,
    );
  });
});
