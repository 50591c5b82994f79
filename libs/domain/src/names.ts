import { z } from "zod";

/** RFC 1123 label: what an environment or project name must be to sit in a hostname. */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const dnsLabel = z
  .string()
  .max(63, "at most 63 characters")
  .regex(DNS_LABEL, "must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'");

export const domainName = z
  .string()
  .max(253)
  .refine(
    (value) => value.split(".").length >= 2 && value.split(".").every((label) => DNS_LABEL.test(label)),
    "must be a lowercase DNS name with at least two labels, e.g. preview.example.com",
  );

/** Environment names also appear in container names and job ids; keep room for suffixes. */
export const environmentName = dnsLabel.max(48, "at most 48 characters");
export const projectName = dnsLabel.max(40, "at most 40 characters");

export const FIXED_ENVIRONMENTS = ["dev", "staging", "prod"] as const;

export function environmentKind(name: string): "fixed" | "preview" {
  return /^pr-\d+$/.test(name) ? "preview" : "fixed";
}

export function hostnameFor(environment: string, domain: string): string {
  return `${environment}.${domain}`;
}

export function environmentUrl(hostname: string, scheme: "http" | "https", port: number): string {
  const defaultPort = scheme === "https" ? 443 : 80;
  return port === defaultPort ? `${scheme}://${hostname}` : `${scheme}://${hostname}:${port}`;
}
