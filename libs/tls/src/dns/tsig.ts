import { createHmac, timingSafeEqual } from "node:crypto";
import { CLASS, DnsWireError, decodeMessage, decodeName, encodeName, encodeRecord, TYPE } from "./wire.ts";

// TSIG (RFC 8945): an HMAC over the message and a few variables, carried as the last additional record.
// Only HMAC-SHA256 is offered: the algorithm RFC 8945 says to implement, accepted by BIND, Knot and PowerDNS.

export interface TsigKey {
  /** Key name as configured on the server, e.g. `edgeplane-acme.` */
  name: string;
  algorithm: "hmac-sha256";
  secret: Buffer;
}

const ALGORITHM_NAME = "hmac-sha256";
/** Allowed clock difference between signer and verifier, in seconds (RFC 8945 recommends 300). */
export const TSIG_FUDGE = 300;

export const TSIG_ERRORS: Record<number, string> = {
  16: "BADSIG",
  17: "BADKEY",
  18: "BADTIME",
  22: "BADTRUNC",
};

export class TsigError extends Error {
  override name = "TsigError";
}

function u48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

interface TsigFields {
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

/** The TSIG variables that are signed after the message (RFC 8945 section 4.3.3). */
function variables(
  key: TsigKey,
  fields: Pick<TsigFields, "timeSigned" | "fudge" | "error" | "other">,
): Buffer {
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(CLASS.ANY, 0);
  classTtl.writeUInt32BE(0, 2);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(fields.fudge, 0);
  tail.writeUInt16BE(fields.error, 2);
  tail.writeUInt16BE(fields.other.length, 4);
  return Buffer.concat([
    encodeName(key.name),
    classTtl,
    encodeName(ALGORITHM_NAME),
    u48(fields.timeSigned),
    tail,
    fields.other,
  ]);
}

function tsigRdata(fields: TsigFields): Buffer {
  const macSize = Buffer.alloc(2);
  macSize.writeUInt16BE(fields.mac.length);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(fields.originalId, 0);
  tail.writeUInt16BE(fields.error, 2);
  tail.writeUInt16BE(fields.other.length, 4);
  const fudge = Buffer.alloc(2);
  fudge.writeUInt16BE(fields.fudge);
  return Buffer.concat([
    encodeName(ALGORITHM_NAME),
    u48(fields.timeSigned),
    fudge,
    macSize,
    fields.mac,
    tail,
    fields.other,
  ]);
}

function parseTsigRdata(rdata: Buffer): TsigFields & { algorithm: string } {
  const { name: algorithm, next } = decodeName(rdata, 0);
  let at = next;
  if (at + 10 > rdata.length) throw new TsigError("TSIG record too short");
  const timeSigned = rdata.readUIntBE(at, 6);
  const fudge = rdata.readUInt16BE(at + 6);
  const macSize = rdata.readUInt16BE(at + 8);
  at += 10;
  if (at + macSize + 6 > rdata.length) throw new TsigError("TSIG MAC runs past its record");
  const mac = rdata.subarray(at, at + macSize);
  at += macSize;
  const originalId = rdata.readUInt16BE(at);
  const error = rdata.readUInt16BE(at + 2);
  const otherLength = rdata.readUInt16BE(at + 4);
  const other = rdata.subarray(at + 6, at + 6 + otherLength);
  return { algorithm, timeSigned, fudge, mac, originalId, error, other };
}

function hmac(key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = createHmac("sha256", key.secret);
  for (const part of parts) h.update(part);
  return h.digest();
}

/**
 * Signs an encoded message (which must not carry a TSIG record yet): appends the TSIG record and bumps
 * ARCOUNT. Returns the signed message and the request MAC, which the response's MAC covers.
 */
export function signMessage(
  message: Buffer,
  key: TsigKey,
  timeSigned = Math.floor(Date.now() / 1000),
): { message: Buffer; mac: Buffer } {
  const fields = { timeSigned, fudge: TSIG_FUDGE, error: 0, other: Buffer.alloc(0) };
  const mac = hmac(key, message, variables(key, fields));
  const record = encodeRecord({
    name: key.name,
    type: TYPE.TSIG,
    class: CLASS.ANY,
    ttl: 0,
    rdata: tsigRdata({ ...fields, mac, originalId: message.readUInt16BE(0) }),
  });
  const signed = Buffer.concat([message, record]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: signed, mac };
}

/**
 * Verifies a response to a signed request (RFC 8945 section 5.3): its last additional record must be a
 * TSIG from the same key whose MAC covers the request MAC, the response without the TSIG record, and the
 * TSIG variables; and its time must lie within the fudge. Throws TsigError otherwise.
 */
export function verifyResponse(
  response: Buffer,
  key: TsigKey,
  requestMac: Buffer,
  now = Math.floor(Date.now() / 1000),
): void {
  let decoded: ReturnType<typeof decodeMessage>;
  try {
    decoded = decodeMessage(response);
  } catch (error) {
    if (error instanceof DnsWireError) throw new TsigError(`malformed response: ${error.message}`);
    throw error;
  }
  const last = decoded.additional.at(-1);
  const offset = decoded.additionalOffsets.at(-1);
  if (!last || offset === undefined || last.type !== TYPE.TSIG) throw new TsigError("response is not signed");
  if (last.name !== key.name.toLowerCase().replace(/\.$/, ""))
    throw new TsigError("response signed by another key");
  const fields = parseTsigRdata(last.rdata);
  if (fields.algorithm !== ALGORITHM_NAME)
    throw new TsigError(`unexpected TSIG algorithm ${fields.algorithm}`);
  if (fields.error !== 0) {
    throw new TsigError(`server reports TSIG error ${TSIG_ERRORS[fields.error] ?? fields.error}`);
  }
  const unsigned = Buffer.from(response.subarray(0, offset));
  unsigned.writeUInt16BE(decoded.additional.length - 1, 10);
  unsigned.writeUInt16BE(fields.originalId, 0);
  const requestMacSize = Buffer.alloc(2);
  requestMacSize.writeUInt16BE(requestMac.length);
  const expected = hmac(key, requestMacSize, requestMac, unsigned, variables(key, fields));
  if (fields.mac.length !== expected.length || !timingSafeEqual(fields.mac, expected)) {
    throw new TsigError("response MAC does not verify");
  }
  if (Math.abs(now - fields.timeSigned) > fields.fudge)
    throw new TsigError("response signed outside the time window");
}

/** The TSIG error code a response carries (0 when unsigned or fine): explains a NOTAUTH. */
export function responseTsigError(response: Buffer): number {
  try {
    const last = decodeMessage(response).additional.at(-1);
    return last?.type === TYPE.TSIG ? parseTsigRdata(last.rdata).error : 0;
  } catch (error) {
    if (error instanceof DnsWireError || error instanceof TsigError) return 0;
    throw error;
  }
}
