import { isCertificateName } from "./dns-name.ts";

/** id-ce-nameConstraints (RFC 5280 section 4.2.1.10). */
export const NAME_CONSTRAINTS_OID = "2.5.29.30";

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  if (n > 0xffff) throw new Error("name constraints too long");
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const SEQUENCE = 0x30;
const PERMITTED = 0xa0; // [0] IMPLICIT GeneralSubtrees
const EXCLUDED = 0xa1; // [1] IMPLICIT GeneralSubtrees
const DNS_NAME = 0x82; // GeneralName [2] IMPLICIT IA5String
const IP_ADDRESS = 0x87; // GeneralName [7] IMPLICIT OCTET STRING: address then mask

/**
 * The DER value of a NameConstraints extension permitting DNS names in `domains` (each the domain and
 * every name below it) and excluding every IP address (v4 and v6), so the CA can certify nothing else.
 */
export function encodeNameConstraints(domains: string[]): Buffer {
  const names = normalizeDomains(domains);
  if (names.length === 0) throw new Error("name constraints need at least one domain");
  const bad = names.filter((d) => !isCertificateName(d) || d.startsWith("*"));
  if (bad.length > 0) throw new Error(`not DNS domains: ${bad.map((d) => JSON.stringify(d)).join(", ")}`);
  const subtree = (generalName: Buffer) => tlv(SEQUENCE, generalName);
  const permitted = names.map((d) => subtree(tlv(DNS_NAME, Buffer.from(d, "ascii"))));
  const excluded = [Buffer.alloc(8), Buffer.alloc(32)].map((any) => subtree(tlv(IP_ADDRESS, any)));
  return tlv(
    SEQUENCE,
    Buffer.concat([tlv(PERMITTED, Buffer.concat(permitted)), tlv(EXCLUDED, Buffer.concat(excluded))]),
  );
}

/** Reads one TLV at `offset`: its tag, content and where the next one starts. */
function read(der: Buffer, offset: number): { tag: number; content: Buffer; end: number } {
  const tag = der[offset];
  let length = der[offset + 1];
  if (tag === undefined || length === undefined) throw new Error("truncated DER");
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes < 1 || bytes > 2) throw new Error("unsupported DER length");
    length = der.readUIntBE(start, bytes);
    start += bytes;
  }
  const end = start + length;
  if (end > der.length) throw new Error("truncated DER");
  return { tag, content: der.subarray(start, end), end };
}

function children(der: Buffer): Array<{ tag: number; content: Buffer }> {
  const out: Array<{ tag: number; content: Buffer }> = [];
  for (let offset = 0; offset < der.length; ) {
    const item = read(der, offset);
    out.push(item);
    offset = item.end;
  }
  return out;
}

/** The permitted DNS domains of a NameConstraints value (as encodeNameConstraints writes it). */
export function decodePermittedDomains(der: Buffer): string[] {
  const top = read(der, 0);
  if (top.tag !== SEQUENCE) throw new Error("name constraints are not a SEQUENCE");
  const permitted = children(top.content).find((c) => c.tag === PERMITTED);
  if (!permitted) return [];
  return children(permitted.content).flatMap((subtree) => {
    const [base] = children(subtree.content);
    return base?.tag === DNS_NAME ? [base.content.toString("ascii").toLowerCase()] : [];
  });
}

export function normalizeDomains(domains: string[]): string[] {
  return [...new Set(domains.map((d) => d.toLowerCase().replace(/\.$/, "")))].sort();
}

/** Whether a DNS name constraint `domain` covers `name` (the domain itself or a name below it). */
export function withinDomain(name: string, domain: string): boolean {
  const n = name.toLowerCase();
  return n === domain || n.endsWith(`.${domain}`);
}
