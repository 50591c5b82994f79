import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildUpdate,
  CLASS,
  DnsWireError,
  decodeMessage,
  decodeName,
  decodeTxt,
  encodeName,
  encodeTxt,
  signMessage,
  TsigError,
  type TsigKey,
  TYPE,
  txtRecord,
  verifyResponse,
} from "../src/index.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const ascii = (s: string) => Buffer.from(s, "ascii").toString("hex");
const key: TsigKey = { name: "edgeplane-acme.", algorithm: "hmac-sha256", secret: Buffer.alloc(32, 7) };

describe("DNS names and TXT data", () => {
  it("writes names as lowercase length-prefixed labels ending with the root", () => {
    expect(encodeName("_acme-challenge.Preview.Test.").toString("hex")).toBe(
      `0f${ascii("_acme-challenge")}07${ascii("preview")}04${ascii("test")}00`,
    );
    expect(encodeName("").toString("hex")).toBe("00");
  });

  it.each(["a..b", `${"a".repeat(64)}.test`, "bad name.test", "ü.test", `${"a.".repeat(127)}a`])(
    "refuses %j",
    (name) => {
      expect(() => encodeName(name)).toThrow(DnsWireError);
    },
  );

  it("splits TXT values into character-strings of at most 255 bytes and reads them back", () => {
    expect(encodeTxt("abc").toString("hex")).toBe(`03${ascii("abc")}`);
    expect(encodeTxt("").toString("hex")).toBe("00");
    const long = "x".repeat(300);
    const rdata = encodeTxt(long);
    expect(rdata[0]).toBe(255);
    expect(rdata[256]).toBe(45);
    expect(decodeTxt(rdata)).toBe(long);
    expect(() => decodeTxt(hex("05 6162"))).toThrow(DnsWireError);
  });

  it("follows compression pointers and refuses loops", () => {
    const message = Buffer.concat([Buffer.alloc(12), encodeName("zone.test"), hex("c00c")]);
    expect(decodeName(message, 12)).toEqual({ name: "zone.test", next: 23 });
    expect(decodeName(message, 23)).toEqual({ name: "zone.test", next: 25 });
    expect(() => decodeName(hex("c000"), 0)).toThrow(/loop/);
  });
});

describe("RFC 2136 UPDATE messages", () => {
  const zone = `07${ascii("preview")}04${ascii("test")}00`;
  const owner = `0f${ascii("_acme-challenge")}${zone}`;

  it("adds a TXT record: zone section `zone IN SOA`, the record with class IN in the update section", () => {
    const message = buildUpdate(0x1234, "preview.test", [
      txtRecord("_acme-challenge.preview.test", "abc", "add", 60),
    ]);
    expect(message.toString("hex")).toBe(
      [
        "1234 2800 0001 0000 0001 0000", // id, opcode UPDATE, one zone, no prerequisites, one update
        `${zone} 0006 0001`,
        `${owner} 0010 0001 0000003c 0004 03${ascii("abc")}`,
      ]
        .join("")
        .replace(/\s+/g, ""),
    );
  });

  it("deletes exactly one TXT record: class NONE, TTL 0, the same data", () => {
    const message = buildUpdate(1, "preview.test", [
      txtRecord("_acme-challenge.preview.test", "abc", "delete"),
    ]);
    expect(message.subarray(-(owner.length / 2 + 14)).toString("hex")).toBe(
      `${owner}001000fe000000000004 03${ascii("abc")}`.replace(/\s+/g, ""),
    );
    const decoded = decodeMessage(message);
    expect(decoded.questions).toEqual([{ name: "preview.test", type: TYPE.SOA, class: CLASS.IN }]);
    expect(decoded.authority).toEqual([
      {
        name: "_acme-challenge.preview.test",
        type: TYPE.TXT,
        class: CLASS.NONE,
        ttl: 0,
        rdata: encodeTxt("abc"),
      },
    ]);
  });
});

describe("TSIG (RFC 8945, HMAC-SHA256)", () => {
  const time = 1_700_000_000;
  const unsigned = buildUpdate(0xbeef, "preview.test", [
    txtRecord("_acme-challenge.preview.test", "abc", "add"),
  ]);
  const keyName = `0e${ascii("edgeplane-acme")}00`;
  const algorithm = `0b${ascii("hmac-sha256")}00`;
  const timeHex = time.toString(16).padStart(12, "0");

  it("signs the message and the TSIG variables, and appends the record", () => {
    const { message, mac } = signMessage(unsigned, key, time);
    // the digest input, spelled out: message, key name, class ANY, TTL 0, algorithm, time, fudge 300, error 0, other 0
    const variables = hex(`${keyName} 00ff 00000000 ${algorithm} ${timeHex} 012c 0000 0000`);
    const expected = createHmac("sha256", key.secret).update(unsigned).update(variables).digest();
    expect(mac.toString("hex")).toBe(expected.toString("hex"));

    expect(message.readUInt16BE(10)).toBe(1); // ARCOUNT
    expect(message.subarray(0, 10)).toEqual(unsigned.subarray(0, 10));
    expect(message.subarray(12, unsigned.length)).toEqual(unsigned.subarray(12));
    const rdata = `${algorithm}${timeHex}012c0020${expected.toString("hex")}beef00000000`;
    expect(message.subarray(unsigned.length).toString("hex")).toBe(
      `${keyName}00fa00ff00000000${(rdata.length / 2).toString(16).padStart(4, "0")}${rdata}`,
    );
  });

  /** A server's signed answer to `request`, built from the RFC's description rather than from the code. */
  function signedAnswer(
    requestMac: Buffer,
    options: { signedAt?: number; secret?: Buffer; error?: number } = {},
  ) {
    const answer = Buffer.from(unsigned);
    answer.writeUInt16BE(0xa800, 2); // QR, opcode UPDATE, NOERROR
    const signedAt = (options.signedAt ?? time).toString(16).padStart(12, "0");
    const error = (options.error ?? 0).toString(16).padStart(4, "0");
    const variables = hex(`${keyName} 00ff 00000000 ${algorithm} ${signedAt} 012c ${error} 0000`);
    const macSize = Buffer.alloc(2);
    macSize.writeUInt16BE(requestMac.length);
    const mac = createHmac("sha256", options.secret ?? key.secret)
      .update(macSize)
      .update(requestMac)
      .update(answer)
      .update(variables)
      .digest();
    const rdata = hex(`${algorithm} ${signedAt} 012c 0020 ${mac.toString("hex")} beef ${error} 0000`);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(rdata.length);
    const signed = Buffer.concat([answer, hex(`${keyName} 00fa 00ff 00000000`), length, rdata]);
    signed.writeUInt16BE(1, 10);
    return signed;
  }

  it("verifies a signed answer, and refuses a tampered, foreign, stale or unsigned one", () => {
    const { mac } = signMessage(unsigned, key, time);
    const answer = signedAnswer(mac);
    expect(() => verifyResponse(answer, key, mac, time + 10)).not.toThrow();

    const tampered = Buffer.from(answer);
    tampered[14] = (tampered[14] ?? 0) ^ 1; // a letter of the zone name
    expect(() => verifyResponse(tampered, key, mac, time)).toThrow(/MAC/);
    const malformed = Buffer.from(answer);
    malformed[20] = 0x3f; // a label length that runs past the message
    expect(() => verifyResponse(malformed, key, mac, time)).toThrow(TsigError);
    expect(() => verifyResponse(signedAnswer(mac, { secret: Buffer.alloc(32, 8) }), key, mac, time)).toThrow(
      /MAC/,
    );
    expect(() => verifyResponse(answer, key, Buffer.alloc(32), time)).toThrow(/MAC/);
    expect(() => verifyResponse(answer, key, mac, time + 301)).toThrow(/time window/);
    expect(() => verifyResponse(signedAnswer(mac, { error: 16 }), key, mac, time)).toThrow(/BADSIG/);
    expect(() => verifyResponse(unsigned, key, mac, time)).toThrow(/not signed/);
  });
});
