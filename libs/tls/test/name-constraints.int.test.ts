import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CaKeyError,
  coversDomains,
  createLocalCa,
  generateCaKeySecret,
  issueCertificate,
  openCaKey,
  parseCaKeySecret,
  permittedDomains,
  sealCaKey,
} from "../src/index.ts";

const run = promisify(execFile);

// openssl is the judge: it enforces name constraints the way browsers and curl do.
describe("the local CA is constrained to the project domains it serves", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeplane-nc-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function verify(rootPem: string, leafPem: string): Promise<{ ok: boolean; output: string }> {
    const root = join(dir, `root-${Math.random().toString(36).slice(2)}.pem`);
    const leaf = join(dir, `leaf-${Math.random().toString(36).slice(2)}.pem`);
    await writeFile(root, rootPem);
    await writeFile(leaf, leafPem);
    return run("openssl", ["verify", "-CAfile", root, "-purpose", "sslserver", leaf]).then(
      ({ stdout }) => ({ ok: stdout.trim() === `${leaf}: OK`, output: stdout }),
      (error: { stdout?: string; stderr?: string }) => ({
        ok: false,
        output: `${error.stdout}${error.stderr}`,
      }),
    );
  }

  it("certifies names under its domains, and a leaf for any other name fails openssl verify", async () => {
    const ca = await createLocalCa({ permittedDomains: ["preview.test"] });
    expect(permittedDomains(ca.certPem)).toEqual(["preview.test"]);
    const inside = await issueCertificate(ca, { hostnames: ["*.preview.test", "pr-1.preview.test"] });
    expect(await verify(ca.certPem, inside.certPem)).toMatchObject({ ok: true });

    // the CA's key signs anything it is asked to: the constraint is what makes clients refuse it
    for (const hostnames of [
      ["bank.example"],
      ["*.other.test"],
      ["preview.test.evil.example"],
      ["xpreview.test"],
    ]) {
      const outside = await issueCertificate(ca, { hostnames });
      const result = await verify(ca.certPem, outside.certPem);
      expect(result.ok, hostnames.join()).toBe(false);
      expect(result.output).toMatch(/permitted subtree violation/);
    }
    // and one bad name among good ones is enough
    const mixed = await issueCertificate(ca, { hostnames: ["pr-2.preview.test", "bank.example"] });
    expect((await verify(ca.certPem, mixed.certPem)).ok).toBe(false);
  });

  it("is issued again with the same key for a new domain: old leaves still verify, the old root refuses the new domain", async () => {
    const first = await createLocalCa({ permittedDomains: ["preview.test"] });
    const leaf = await issueCertificate(first, { hostnames: ["*.preview.test"] });
    expect(coversDomains(first.certPem, ["preview.test"])).toBe(true);
    expect(coversDomains(first.certPem, ["preview.test", "shop.test"])).toBe(false);

    const second = await createLocalCa({
      permittedDomains: ["shop.test", "preview.test"],
      keyPem: first.keyPem,
    });
    expect(second.keyPem).toBe(first.keyPem);
    expect(permittedDomains(second.certPem)).toEqual(["preview.test", "shop.test"]);
    expect(coversDomains(second.certPem, ["preview.test", "shop.test"])).toBe(true);
    const shop = await issueCertificate(second, { hostnames: ["*.shop.test"] });
    expect((await verify(second.certPem, leaf.certPem)).ok).toBe(true);
    expect((await verify(second.certPem, shop.certPem)).ok).toBe(true);
    expect((await verify(first.certPem, shop.certPem)).ok).toBe(false);
    // an unconstrained root (from before constraints existed) covers nothing, so it is issued again
    expect(coversDomains((await createLocalCa()).certPem, ["preview.test"])).toBe(false);
  });
});

describe("the local CA key at rest", () => {
  it("is sealed: no PEM in the stored form, opens only with its secret, and tampering is detected", async () => {
    const ca = await createLocalCa({ permittedDomains: ["preview.test"] });
    const secret = parseCaKeySecret(generateCaKeySecret());
    const stored = sealCaKey(ca.keyPem, secret);
    expect(stored).not.toContain("PRIVATE KEY");
    expect(stored).not.toContain(ca.keyPem.split("\n")[1]);
    expect(Buffer.from(stored.split(":").at(-1) ?? "", "base64").toString("latin1")).not.toContain("PRIVATE");
    expect(openCaKey(stored, secret)).toBe(ca.keyPem);

    const other = parseCaKeySecret(generateCaKeySecret());
    expect(() => openCaKey(stored, other)).toThrow(CaKeyError);
    const raw = Buffer.from(stored.slice("edgeplane-sealed:v1:".length), "base64");
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => openCaKey(`edgeplane-sealed:v1:${raw.toString("base64")}`, secret)).toThrow(CaKeyError);
    // nor can the sealed form be used as a key by anything that expects one
    await expect(
      issueCertificate({ certPem: ca.certPem, keyPem: stored }, { hostnames: ["a.preview.test"] }),
    ).rejects.toThrow();
    expect(() => parseCaKeySecret(Buffer.alloc(16).toString("base64"))).toThrow(CaKeyError);
  });
});
