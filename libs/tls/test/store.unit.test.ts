import { describe, expect, it } from "vitest";
import {
  createLocalCa,
  isCertificateName,
  issueCertificate,
  needsRenewal,
  readCertificateInfo,
} from "../src/index.ts";

const day = 24 * 60 * 60 * 1000;

describe("certificate names", () => {
  it("accepts lowercase DNS names and leftmost wildcards", () => {
    for (const name of ["preview.test", "*.preview.test", "pr-1908.preview.example.com", "localhost"]) {
      expect(isCertificateName(name)).toBe(true);
    }
  });

  it("refuses anything else", () => {
    for (const name of [
      "",
      "*.test",
      "a.*.test",
      "*",
      "Preview.test",
      "-a.test",
      "a..test",
      "a.test.",
      "a b.test",
    ]) {
      expect(isCertificateName(name)).toBe(false);
    }
  });
});

describe("issuing", () => {
  it("refuses invalid hostnames and validity", async () => {
    const ca = await createLocalCa();
    await expect(issueCertificate(ca, { hostnames: [] })).rejects.toThrow(/at least one/);
    await expect(issueCertificate(ca, { hostnames: ["<script>.test"] })).rejects.toThrow(/not lowercase DNS/);
    await expect(issueCertificate(ca, { hostnames: ["a.test"], validDays: 0 })).rejects.toThrow(/validDays/);
    await expect(issueCertificate(ca, { hostnames: ["a.test"], validDays: 20 * 365 })).rejects.toThrow(
      /outlast/,
    );
  });

  it("gives each certificate its own serial and key", async () => {
    const ca = await createLocalCa();
    const [a, b] = await Promise.all([
      issueCertificate(ca, { hostnames: ["a.test"] }),
      issueCertificate(ca, { hostnames: ["a.test"] }),
    ]);
    expect(a.certPem).not.toBe(b.certPem);
    expect(a.keyPem).not.toBe(b.keyPem);
    expect(a.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });
});

describe("reading certificates", () => {
  it("reports validity and DNS names of the leaf of a chain", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const ca = await createLocalCa({ now });
    const leaf = await issueCertificate(ca, {
      hostnames: ["*.preview.test", "preview.test"],
      validDays: 30,
      now,
    });
    const info = readCertificateInfo(leaf.certPem + leaf.chainPem);
    expect(info.hostnames).toEqual(["*.preview.test", "preview.test"]);
    expect(info.notAfter).toEqual(new Date(now.getTime() + 30 * day));
    expect(leaf.notAfter).toEqual(info.notAfter);
    expect(info.notBefore.getTime()).toBeLessThanOrEqual(now.getTime());
  });
});

describe("renewal", () => {
  const now = new Date("2030-01-01T00:00:00Z");
  it("renews within the window and after expiry", () => {
    expect(needsRenewal(new Date(now.getTime() + 31 * day), now)).toBe(false);
    expect(needsRenewal(new Date(now.getTime() + 30 * day), now)).toBe(true);
    expect(needsRenewal(new Date(now.getTime() - day), now)).toBe(true);
    expect(needsRenewal(new Date(now.getTime() + 10 * day), now, 7)).toBe(false);
  });
});
