// The DNS message format (RFC 1035 section 4, RFC 2136 section 2) as far as edgeplane needs it:
// queries, dynamic updates and TSIG records. Names are written uncompressed and lowercase (the canonical
// form TSIG signs); names in answers may be compressed and are read back as lowercase dotted strings.

export const TYPE = { A: 1, NS: 2, SOA: 6, TXT: 16, AAAA: 28, TSIG: 250, ANY: 255 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;

const RCODE_NAMES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
  16: "BADSIG",
  17: "BADKEY",
  18: "BADTIME",
};
export const rcodeName = (code: number) => RCODE_NAMES[code] ?? `RCODE${code}`;

export class DnsWireError extends Error {
  override name = "DnsWireError";
}

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  rdata: Buffer;
}

export interface Message {
  id: number;
  /** QR, opcode, AA, TC, RD, RA, Z and rcode bits of the header's second word. */
  flags: number;
  /** Question section, or the zone section of an update. */
  questions: Question[];
  /** Answer section, or the prerequisite section of an update. */
  answers: ResourceRecord[];
  /** Authority section, or the update section of an update. */
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

export interface DecodedMessage extends Message {
  /** Byte offset at which each additional record starts (TSIG verification signs what comes before). */
  additionalOffsets: number[];
}

export const flags = {
  qr: (f: number) => (f & 0x8000) !== 0,
  opcode: (f: number) => (f >> 11) & 0x0f,
  truncated: (f: number) => (f & 0x0200) !== 0,
  rcode: (f: number) => f & 0x000f,
  make: (options: { opcode: number; recursionDesired?: boolean }) =>
    ((options.opcode & 0x0f) << 11) | (options.recursionDesired ? 0x0100 : 0),
};

/** A name in wire format: length-prefixed lowercase labels ending with the root label. */
export function encodeName(name: string): Buffer {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  const labels = trimmed === "" ? [] : trimmed.toLowerCase().split(".");
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, "ascii");
    if (bytes.length === 0 || bytes.length > 63)
      throw new DnsWireError(`invalid label in ${JSON.stringify(name)}`);
    if (!/^[a-z0-9_*-]+$/.test(label))
      throw new DnsWireError(`unsupported characters in ${JSON.stringify(name)}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > 255) throw new DnsWireError(`name too long: ${JSON.stringify(name)}`);
  return wire;
}

/** TXT RDATA: the value split into character-strings of at most 255 bytes each. */
export function encodeTxt(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length || parts.length === 0; at += 255) {
    const chunk = bytes.subarray(at, at + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

export function decodeTxt(rdata: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < rdata.length) {
    const length = rdata[at] ?? 0;
    if (at + 1 + length > rdata.length) throw new DnsWireError("TXT character-string runs past its record");
    parts.push(rdata.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  return Buffer.concat(parts).toString("utf8");
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

export function encodeQuestion(q: Question): Buffer {
  return Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)]);
}

export function encodeRecord(rr: ResourceRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(rr.type, 0);
  fixed.writeUInt16BE(rr.class, 2);
  fixed.writeUInt32BE(rr.ttl >>> 0, 4);
  fixed.writeUInt16BE(rr.rdata.length, 8);
  return Buffer.concat([encodeName(rr.name), fixed, rr.rdata]);
}

export function encodeMessage(message: Message): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.id, 0);
  header.writeUInt16BE(message.flags, 2);
  header.writeUInt16BE(message.questions.length, 4);
  header.writeUInt16BE(message.answers.length, 6);
  header.writeUInt16BE(message.authority.length, 8);
  header.writeUInt16BE(message.additional.length, 10);
  return Buffer.concat([
    header,
    ...message.questions.map(encodeQuestion),
    ...message.answers.map(encodeRecord),
    ...message.authority.map(encodeRecord),
    ...message.additional.map(encodeRecord),
  ]);
}

/** Reads a possibly compressed name at `offset`; returns it and the offset just past it. */
export function decodeName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = offset;
  let next = -1;
  for (let jumps = 0; ; ) {
    const length = buf[at];
    if (length === undefined) throw new DnsWireError("name runs past the message");
    if ((length & 0xc0) === 0xc0) {
      const low = buf[at + 1];
      if (low === undefined) throw new DnsWireError("truncated compression pointer");
      if (next === -1) next = at + 2;
      if (++jumps > 64) throw new DnsWireError("compression loop");
      at = ((length & 0x3f) << 8) | low;
      continue;
    }
    if (length > 63) throw new DnsWireError("invalid label length");
    if (length === 0) {
      if (next === -1) next = at + 1;
      break;
    }
    if (at + 1 + length > buf.length) throw new DnsWireError("label runs past the message");
    labels.push(buf.toString("latin1", at + 1, at + 1 + length).toLowerCase());
    at += 1 + length;
  }
  return { name: labels.join("."), next };
}

function decodeRecord(buf: Buffer, offset: number): { rr: ResourceRecord; next: number } {
  const { name, next } = decodeName(buf, offset);
  if (next + 10 > buf.length) throw new DnsWireError("record header runs past the message");
  const length = buf.readUInt16BE(next + 8);
  const end = next + 10 + length;
  if (end > buf.length) throw new DnsWireError("record data runs past the message");
  return {
    rr: {
      name,
      type: buf.readUInt16BE(next),
      class: buf.readUInt16BE(next + 2),
      ttl: buf.readUInt32BE(next + 4),
      rdata: buf.subarray(next + 10, end),
    },
    next: end,
  };
}

export function decodeMessage(buf: Buffer): DecodedMessage {
  if (buf.length < 12) throw new DnsWireError("message shorter than its header");
  const counts = [4, 6, 8, 10].map((at) => buf.readUInt16BE(at));
  let at = 12;
  const questions: Question[] = [];
  for (let i = 0; i < (counts[0] ?? 0); i++) {
    const { name, next } = decodeName(buf, at);
    if (next + 4 > buf.length) throw new DnsWireError("question runs past the message");
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    at = next + 4;
  }
  const section = (count: number, offsets?: number[]) => {
    const records: ResourceRecord[] = [];
    for (let i = 0; i < count; i++) {
      offsets?.push(at);
      const { rr, next } = decodeRecord(buf, at);
      records.push(rr);
      at = next;
    }
    return records;
  };
  const answers = section(counts[1] ?? 0);
  const authority = section(counts[2] ?? 0);
  const additionalOffsets: number[] = [];
  const additional = section(counts[3] ?? 0, additionalOffsets);
  return {
    id: buf.readUInt16BE(0),
    flags: buf.readUInt16BE(2),
    questions,
    answers,
    authority,
    additional,
    additionalOffsets,
  };
}
