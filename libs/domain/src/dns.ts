/** One DNS label (RFC 1123): lowercase letters, digits and '-', 1 to 63 characters, no '-' at either end. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const DNS_LABEL_MESSAGE =
  "must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'";

export function isDnsLabel(value: string): boolean {
  return DNS_LABEL.test(value);
}

/**
 * The one DNS-name rule: lowercase labels joined by dots, 253 characters at most. `minLabels` asks for
 * at least that many labels (2 for a host under a domain); `absolute` also accepts one trailing dot.
 */
export function isDnsName(value: string, { minLabels = 1, absolute = false } = {}): boolean {
  const name = absolute && value.endsWith(".") ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  return labels.length >= minLabels && labels.every(isDnsLabel);
}

/** The host a request names (its `Host` header: port and trailing dot dropped), if it is a DNS name under a domain. */
export function hostFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const host = header
    .trim()
    .toLowerCase()
    .replace(/:\d{1,5}$/, "")
    .replace(/\.$/, "");
  return isDnsName(host, { minLabels: 2 }) ? host : undefined;
}
