/** IPv4 addresses as numbers and back. */
export const toInt = (ip: string) => ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
export const toIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/**
 * A container address in `subnet` that none of `taken` holds: from the second host on (the first
 * is the bridge's gateway, the host side), never the broadcast address.
 */
export function freeAddress(subnet: string, taken: ReadonlySet<string | null>): string {
  const [address = "", bits = ""] = subnet.split("/");
  const start = toInt(address);
  const size = 2 ** (32 - Number(bits));
  for (let host = 2; host < size - 1; host++) {
    const candidate = toIp(start + host);
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error(`no free address left in ${subnet}`);
}
