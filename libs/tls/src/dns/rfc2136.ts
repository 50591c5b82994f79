import { randomInt } from "node:crypto";
import type { DnsProvider } from "./provider.ts";
import { exchange } from "./transport.ts";
import { responseTsigError, signMessage, TSIG_ERRORS, type TsigKey, verifyResponse } from "./tsig.ts";
import {
  CLASS,
  decodeMessage,
  encodeMessage,
  encodeTxt,
  flags,
  OPCODE,
  type ResourceRecord,
  rcodeName,
  TYPE,
} from "./wire.ts";

export interface Rfc2136Options {
  server: string;
  port: number;
  /** The zone the records live in (the update's zone section). */
  zone: string;
  tsig?: TsigKey;
  ttl?: number;
  /** For the server's answer to each update (default 10 s). */
  timeoutMs?: number;
}

export class DnsUpdateError extends Error {
  override name = "DnsUpdateError";
}

/**
 * An RFC 2136 UPDATE message: zone section `zone IN SOA`, no prerequisites, and `updates` in the update
 * section. Add a record with class IN; delete one exact record with class NONE and TTL 0 (section 2.5.4).
 */
export function buildUpdate(id: number, zone: string, updates: ResourceRecord[]): Buffer {
  return encodeMessage({
    id,
    flags: flags.make({ opcode: OPCODE.UPDATE }),
    questions: [{ name: zone, type: TYPE.SOA, class: CLASS.IN }],
    answers: [],
    authority: updates,
    additional: [],
  });
}

export function txtRecord(fqdn: string, value: string, op: "add" | "delete", ttl = 60): ResourceRecord {
  return op === "add"
    ? { name: fqdn, type: TYPE.TXT, class: CLASS.IN, ttl, rdata: encodeTxt(value) }
    : { name: fqdn, type: TYPE.TXT, class: CLASS.NONE, ttl: 0, rdata: encodeTxt(value) };
}

function isInZone(fqdn: string, zone: string): boolean {
  const name = fqdn.toLowerCase().replace(/\.$/, "");
  const z = zone.toLowerCase().replace(/\.$/, "");
  return name === z || name.endsWith(`.${z}`);
}

/** Sends one dynamic update (signed when a key is given) and checks the answer, its id and its signature. */
export async function sendUpdate(options: Rfc2136Options, updates: ResourceRecord[]): Promise<void> {
  for (const u of updates) {
    if (!isInZone(u.name, options.zone)) throw new DnsUpdateError(`${u.name} is not in zone ${options.zone}`);
  }
  const unsigned = buildUpdate(randomInt(0, 0x10000), options.zone, updates);
  const signed = options.tsig
    ? signMessage(unsigned, options.tsig)
    : { message: unsigned, mac: Buffer.alloc(0) };
  const server = { host: options.server, port: options.port };
  const answer = await exchange(server, signed.message, { timeoutMs: options.timeoutMs }).catch(
    (error: Error) => {
      throw new DnsUpdateError(`update of zone ${options.zone} failed: ${error.message}`);
    },
  );
  const decoded = decodeMessage(answer);
  if (!flags.qr(decoded.flags) || flags.opcode(decoded.flags) !== OPCODE.UPDATE) {
    throw new DnsUpdateError("answer is not an UPDATE response");
  }
  const rcode = flags.rcode(decoded.flags);
  if (rcode !== 0) {
    const tsigError = responseTsigError(answer);
    const detail = tsigError ? ` (TSIG ${TSIG_ERRORS[tsigError] ?? tsigError})` : "";
    throw new DnsUpdateError(
      `${options.server}:${options.port} refused the update of zone ${options.zone}: ${rcodeName(rcode)}${detail}`,
    );
  }
  if (options.tsig) verifyResponse(answer, options.tsig, signed.mac);
}

/** DNS-01 through RFC 2136 dynamic updates, as BIND, Knot and PowerDNS accept them. */
export function rfc2136Provider(options: Rfc2136Options): DnsProvider {
  const ttl = options.ttl ?? 60;
  return {
    // adding a record that exists already is a no-op for the server (RFC 2136 section 3.4.2.2)
    present: (fqdn, value) => sendUpdate(options, [txtRecord(fqdn, value, "add", ttl)]),
    // deleting a record that does not exist is a no-op too
    cleanup: (fqdn, value) => sendUpdate(options, [txtRecord(fqdn, value, "delete")]),
  };
}
