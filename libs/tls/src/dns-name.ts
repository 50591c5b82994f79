import { isDnsLabel, isDnsName } from "@edgeplane/domain";

/**
 * A lowercase DNS name a certificate may cover: `pr-1.preview.test`, or a wildcard whose `*` is the whole
 * leftmost label and stands above at least two labels (`*.preview.test`, never `*.test` or `a.*.test`).
 */
export function isCertificateName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const [first, ...rest] = name.split(".");
  if (first === "*") return rest.length >= 2 && rest.every(isDnsLabel);
  return isDnsName(name);
}
