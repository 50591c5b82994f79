import { describe, expect, it } from "vitest";
import {
  readTlsSettings,
  renewalDue,
  renewalTime,
  splitChain,
  tlsSettings,
  tlsSettingsView,
} from "../src/index.ts";

const day = 24 * 60 * 60 * 1000;

describe("project TLS settings", () => {
  it("defaults ACME to DNS-01 and requires a provider for it", () => {
    const parsed = tlsSettings.parse({
      mode: "acme",
      directoryUrl: "https://acme.example/dir",
      dns: {
        provider: "rfc2136",
        server: "192.0.2.53",
        tsigKeyName: "acme.",
        tsigSecret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
      },
    });
    expect(parsed).toMatchObject({ challenge: "dns-01", dns: { port: 53, tsigAlgorithm: "hmac-sha256" } });
    expect(tlsSettings.safeParse({ mode: "acme", directoryUrl: "https://acme.example/dir" }).success).toBe(
      false,
    );
    expect(
      tlsSettings.safeParse({ mode: "acme", directoryUrl: "https://acme.example/dir", challenge: "http-01" })
        .success,
    ).toBe(true);
  });

  it.each([
    { mode: "acme", directoryUrl: "https://a/dir", dns: { provider: "rfc2136", server: "ns1.example" } },
    {
      mode: "acme",
      directoryUrl: "https://a/dir",
      dns: { provider: "rfc2136", server: "192.0.2.1", tsigKeyName: "k." },
    },
    {
      mode: "acme",
      directoryUrl: "https://a/dir",
      dns: { provider: "rfc2136", server: "192.0.2.1", tsigKeyName: "k.", tsigSecret: "not base64!" },
    },
    { mode: "acme", directoryUrl: "https://a/dir", dns: { provider: "httpreq", endpoint: "file:///x" } },
    { mode: "acme", directoryUrl: "https://a/dir", challenge: "http-01", caBundle: "not a pem" },
    { mode: "acme", directoryUrl: "https://a/dir", challenge: "tls-alpn-01" },
    { mode: "local", extra: true },
    { mode: "on" },
  ])("refuses %j", (value) => {
    expect(tlsSettings.safeParse(value).success).toBe(false);
  });

  it("shows whether secrets are set, never their values", () => {
    const view = tlsSettingsView(
      tlsSettings.parse({
        mode: "acme",
        directoryUrl: "https://acme.example/dir",
        dns: {
          provider: "httpreq",
          endpoint: "https://hook.example",
          username: "u",
          password: "hunter2-hunter2",
        },
      }),
    );
    expect(view).toEqual({
      mode: "acme",
      directoryUrl: "https://acme.example/dir",
      challenge: "dns-01",
      dns: { provider: "httpreq", endpoint: "https://hook.example", username: "u", passwordSet: true },
      caBundleSet: false,
    });
    const rfc = tlsSettingsView(
      tlsSettings.parse({
        mode: "acme",
        directoryUrl: "https://acme.example/dir",
        dns: {
          provider: "rfc2136",
          server: "192.0.2.53",
          tsigKeyName: "acme.",
          tsigSecret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
        },
      }),
    );
    expect(JSON.stringify(rfc)).not.toContain("c2VjcmV0");
    expect(rfc).toMatchObject({ dns: { tsigSecretSet: true } });
  });

  it("reads anything unreadable from storage as off", () => {
    expect(readTlsSettings({ mode: "acme" })).toEqual({ mode: "off" });
    expect(readTlsSettings(null)).toEqual({ mode: "off" });
    expect(readTlsSettings({ mode: "local" })).toEqual({ mode: "local" });
  });
});

describe("renewal schedule", () => {
  const notBefore = new Date("2026-01-01T00:00:00Z");
  it("renews a 90-day certificate 30 days before expiry", () => {
    const notAfter = new Date(notBefore.getTime() + 90 * day);
    expect(renewalTime(notBefore, notAfter).toISOString()).toBe("2026-03-02T00:00:00.000Z");
    expect(renewalDue(notBefore, notAfter, new Date(notAfter.getTime() - 31 * day))).toBe(false);
    expect(renewalDue(notBefore, notAfter, new Date(notAfter.getTime() - 30 * day))).toBe(true);
  });
  it("renews a long-lived certificate at the configured margin, a short-lived one at a third of its life", () => {
    const year = new Date(notBefore.getTime() + 365 * day);
    expect(renewalTime(notBefore, year, 14).getTime()).toBe(year.getTime() - 14 * day);
    const short = new Date(notBefore.getTime() + 60_000);
    expect(renewalTime(notBefore, short).getTime()).toBe(notBefore.getTime() + 40_000);
    expect(renewalDue(notBefore, short, new Date(notBefore.getTime() + 39_999))).toBe(false);
    expect(renewalDue(notBefore, short, new Date(notBefore.getTime() + 40_000))).toBe(true);
  });
});

describe("splitChain", () => {
  it("separates the leaf from the certificates above it", () => {
    const block = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----`;
    expect(splitChain(`${block("A")}\n${block("B")}\n\n${block("C")}\n`)).toEqual({
      certPem: `${block("A")}\n`,
      chainPem: `${block("B")}\n${block("C")}\n`,
    });
    expect(() => splitChain("nothing")).toThrow(/no certificate/);
  });
});
