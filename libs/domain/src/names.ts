import { z } from "zod";
import { DNS_LABEL_MESSAGE, isDnsLabel, isDnsName } from "./dns.ts";
import type { EnvironmentKind } from "./lifecycle.ts";

export const dnsLabel = z.string().max(63, "at most 63 characters").refine(isDnsLabel, DNS_LABEL_MESSAGE);

export const domainName = z
  .string()
  .max(253)
  .refine(
    (value) => isDnsName(value, { minLabels: 2 }),
    "must be a lowercase DNS name with at least two labels, e.g. preview.example.com",
  );

/** Environment names also appear in container names and job ids; keep room for suffixes. */
export const environmentName = dnsLabel.max(48, "at most 48 characters");
export const projectName = dnsLabel.max(40, "at most 40 characters");

export function environmentKind(name: string): EnvironmentKind {
  return /^pr-\d+$/.test(name) ? "preview" : "fixed";
}

export function hostnameFor(environment: string, domain: string): string {
  return `${environment}.${domain}`;
}
