import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Knot } from "../../../test/support/acme.ts";
import {
  CLASS,
  DnsUpdateError,
  decodeMessage,
  decodeTxt,
  encodeMessage,
  exchange,
  flags,
  OPCODE,
  queryTxt,
  rfc2136Provider,
  TYPE,
} from "../src/index.ts";

// RFC 2136 dynamic updates with TSIG against a real authoritative server: Knot DNS from Debian.
describe("RFC 2136 provider against Knot DNS", () => {
  const knot = new Knot("preview.test");
  const server = () => ({ host: "127.0.0.1", port: knot.port });
  const provider = (secret = Buffer.from(knot.secret, "base64"), keyName = knot.keyName) =>
    rfc2136Provider({
      server: "127.0.0.1",
      port: knot.port,
      zone: "preview.test",
      tsig: { name: keyName, algorithm: "hmac-sha256", secret },
    });
  const fqdn = "_acme-challenge.preview.test";

  beforeAll(async () => {
    await knot.start();
  });
  afterAll(async () => {
    await knot.stop();
  });

  it("presents a TXT record, idempotently, and cleans up exactly that record", async () => {
    await provider().present(fqdn, "first-value");
    await provider().present(fqdn, "first-value");
    await provider().present(fqdn, "second-value");
    expect((await queryTxt(server(), fqdn)).sort()).toEqual(["first-value", "second-value"]);
    await provider().cleanup(fqdn, "first-value");
    expect(await queryTxt(server(), fqdn)).toEqual(["second-value"]);
    await provider().cleanup(fqdn, "second-value");
    await provider().cleanup(fqdn, "second-value"); // gone already: still fine
    expect(await queryTxt(server(), fqdn)).toEqual([]);
  });

  it("carries values longer than one character-string, and reads them over TCP too", async () => {
    const long = "v".repeat(400);
    await provider().present("_acme-challenge.long.preview.test", long);
    expect(await queryTxt(server(), "_acme-challenge.long.preview.test")).toEqual([long]);
    const query = encodeMessage({
      id: randomInt(0, 0x10000),
      flags: flags.make({ opcode: OPCODE.QUERY }),
      questions: [{ name: "_acme-challenge.long.preview.test", type: TYPE.TXT, class: CLASS.IN }],
      answers: [],
      authority: [],
      additional: [],
    });
    const answer = decodeMessage(await exchange(server(), query, { tcp: true }));
    expect(answer.answers.map((rr) => decodeTxt(rr.rdata))).toEqual([long]);
    await provider().cleanup("_acme-challenge.long.preview.test", long);
  });

  it("is refused with a wrong secret, an unknown key or no signature, and changes nothing", async () => {
    await expect(provider(Buffer.alloc(32, 1)).present(fqdn, "forged")).rejects.toThrow(
      /NOTAUTH \(TSIG BADSIG\)/,
    );
    await expect(provider(undefined, "other-key.").present(fqdn, "forged")).rejects.toThrow(
      /NOTAUTH \(TSIG BADKEY\)/,
    );
    const unsigned = rfc2136Provider({ server: "127.0.0.1", port: knot.port, zone: "preview.test" });
    await expect(unsigned.present(fqdn, "forged")).rejects.toThrow(/NOTAUTH/);
    expect(await queryTxt(server(), fqdn)).toEqual([]);
  });

  it("refuses names outside its zone before sending anything", async () => {
    await expect(provider().present("_acme-challenge.elsewhere.test", "x")).rejects.toThrow(DnsUpdateError);
    await expect(
      rfc2136Provider({ server: "127.0.0.1", port: knot.port, zone: "nosuchzone.test" }).present(
        "_acme-challenge.nosuchzone.test",
        "x",
      ),
    ).rejects.toThrow(/NOTAUTH|REFUSED/);
  });
});
