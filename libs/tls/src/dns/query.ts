import { randomInt } from "node:crypto";
import { DNS_TIMEOUT_MS, type DnsServer, exchange } from "./transport.ts";
import { CLASS, decodeMessage, decodeTxt, encodeMessage, flags, OPCODE, rcodeName, TYPE } from "./wire.ts";

/**
 * Asks `server` directly (no recursion) for the TXT records at `name`: how a DNS-01 record is checked on
 * the authoritative server it was written to. NXDOMAIN and an empty answer both give [].
 */
export async function queryTxt(
  server: DnsServer,
  name: string,
  timeoutMs = DNS_TIMEOUT_MS,
): Promise<string[]> {
  const id = randomInt(0, 0x10000);
  const query = encodeMessage({
    id,
    flags: flags.make({ opcode: OPCODE.QUERY }),
    questions: [{ name, type: TYPE.TXT, class: CLASS.IN }],
    answers: [],
    authority: [],
    additional: [],
  });
  const answer = decodeMessage(await exchange(server, query, { timeoutMs }));
  const rcode = flags.rcode(answer.flags);
  if (rcode === 3) return [];
  if (rcode !== 0)
    throw new Error(`${server.host}:${server.port} answered ${rcodeName(rcode)} for ${name} TXT`);
  const wanted = name.toLowerCase().replace(/\.$/, "");
  return answer.answers
    .filter((rr) => rr.type === TYPE.TXT && rr.name === wanted)
    .map((rr) => decodeTxt(rr.rdata));
}
