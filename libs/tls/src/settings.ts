import { isDnsName } from "@edgeplane/domain";
import { z } from "zod";

const dnsName = z
  .string()
  .max(253)
  .refine((value) => isDnsName(value, { absolute: true }), "must be a lowercase DNS name");

const pemCertificates = z
  .string()
  .max(64 * 1024)
  .refine(
    (value) => /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(value),
    "must hold PEM certificates",
  );

/** RFC 2136 dynamic updates, optionally signed with TSIG (HMAC-SHA256). */
export const rfc2136Settings = z
  .strictObject({
    provider: z.literal("rfc2136"),
    /** The primary name server accepting updates: an IP address. */
    server: z.union([z.ipv4(), z.ipv6()]),
    port: z.number().int().min(1).max(65535).default(53),
    /** The zone to update; defaults to the project's domain. */
    zone: dnsName.optional(),
    tsigKeyName: dnsName.optional(),
    tsigAlgorithm: z.literal("hmac-sha256").default("hmac-sha256"),
    /** Base64 TSIG secret. Write-only: never returned by the API, never logged. */
    tsigSecret: z.base64().min(16).max(1024).optional(),
  })
  .refine((s) => (s.tsigKeyName === undefined) === (s.tsigSecret === undefined), {
    message: "tsigKeyName and tsigSecret go together",
    path: ["tsigSecret"],
  });

/** lego's `httpreq` convention: POST {fqdn, value} to `<endpoint>/present` and `<endpoint>/cleanup`. */
export const httpreqSettings = z.strictObject({
  provider: z.literal("httpreq"),
  endpoint: z.url({ protocol: /^https?$/ }),
  username: z.string().min(1).max(256).optional(),
  /** Write-only: never returned by the API, never logged. */
  password: z.string().min(1).max(1024).optional(),
});

export const dnsProviderSettings = z.discriminatedUnion("provider", [rfc2136Settings, httpreqSettings]);
export type DnsProviderSettings = z.infer<typeof dnsProviderSettings>;

export const acmeTlsSettings = z
  .strictObject({
    mode: z.literal("acme"),
    directoryUrl: z.url({ protocol: /^https?$/ }),
    email: z.email().max(254).optional(),
    /** dns-01: one wildcard certificate `*.{domain}`; http-01: one certificate per hostname. */
    challenge: z.enum(["dns-01", "http-01"]).default("dns-01"),
    dns: dnsProviderSettings.optional(),
    /** PEM certificates to trust for the ACME server (a private or test CA). */
    caBundle: pemCertificates.optional(),
  })
  .refine((s) => s.challenge !== "dns-01" || s.dns !== undefined, {
    message: "dns-01 needs a dns provider",
    path: ["dns"],
  });
export type AcmeTlsSettings = z.infer<typeof acmeTlsSettings>;

/** TLS at the gateway for one project. The one schema for API input and the worker's reading of the row. */
export const tlsSettings = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("off") }),
  z.strictObject({ mode: z.literal("local") }),
  acmeTlsSettings,
]);
export type TlsSettings = z.infer<typeof tlsSettings>;

/** Reads a stored `projects.tls`; anything unreadable counts as off (the API never stores such a value). */
export function readTlsSettings(stored: unknown): TlsSettings {
  const parsed = tlsSettings.safeParse(stored);
  return parsed.success ? parsed.data : { mode: "off" };
}

/** Whether a stored `projects.tls` serves the project's hosts over HTTPS. */
export function hasTls(stored: unknown): boolean {
  return readTlsSettings(stored).mode !== "off";
}

/** The settings as the API shows them: secrets replaced by whether they are set. */
export function tlsSettingsView(settings: TlsSettings) {
  if (settings.mode !== "acme") return settings;
  const { caBundle, dns, ...rest } = settings;
  let dnsView: Record<string, unknown> | undefined;
  if (dns?.provider === "rfc2136") {
    const { tsigSecret, ...visible } = dns;
    dnsView = { ...visible, tsigSecretSet: tsigSecret !== undefined };
  } else if (dns?.provider === "httpreq") {
    const { password, ...visible } = dns;
    dnsView = { ...visible, passwordSet: password !== undefined };
  }
  return { ...rest, ...(dnsView ? { dns: dnsView } : {}), caBundleSet: caBundle !== undefined };
}

/** The certificate name a domain's wildcard certificate goes by. */
export const wildcardName = (domain: string) => `*.${domain}`;
