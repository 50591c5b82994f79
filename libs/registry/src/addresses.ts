import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** Resolves a hostname to every address it has (`dns.lookup` with `all: true`). */
export type Lookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The host of `host[:port]` or `[v6]:port`, lowercase and without brackets; undefined if unparsable. */
export function hostOf(registry: string): string | undefined {
  try {
    return new URL(`http://${registry}`).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return undefined;
  }
}

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");
loopback.addSubnet("::ffff:127.0.0.0", 104, "ipv6");

/**
 * Loopback decided on the parsed address: `localhost`, 127.0.0.0/8 and ::1. A name that merely starts
 * with `127.` (`127.evil.com`) is a DNS name like any other.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (name === "localhost") return true;
  const family = isIP(name);
  if (family === 0) return false;
  return loopback.check(name, family === 4 ? "ipv4" : "ipv6");
}

// Link-local ranges (where every cloud serves instance metadata and credentials) and the metadata
// addresses outside them; never a place to send registry credentials or fetch a token from.
const forbidden = new BlockList();
forbidden.addSubnet("169.254.0.0", 16, "ipv4");
forbidden.addSubnet("::ffff:169.254.0.0", 112, "ipv6");
forbidden.addSubnet("fe80::", 10, "ipv6");
forbidden.addAddress("fd00:ec2::254", "ipv6"); // AWS IMDS over IPv6
forbidden.addAddress("100.100.100.200", "ipv4"); // Alibaba Cloud metadata
forbidden.addAddress("0.0.0.0", "ipv4");
forbidden.addAddress("::", "ipv6");
const METADATA_NAMES = new Set(["metadata", "metadata.google.internal", "metadata.goog", "instance-data"]);

/** Whether `address` (an IP literal) is link-local, a metadata address or unspecified. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return forbidden.check(address, family === 4 ? "ipv4" : "ipv6");
}

export function isMetadataName(host: string): boolean {
  return METADATA_NAMES.has(host.toLowerCase().replace(/\.$/, ""));
}
