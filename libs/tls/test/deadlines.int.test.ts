import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server } from "node:http";
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
} from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAcmeAccountKey,
  exchange,
  httpreqProvider,
  issueAcmeCertificate,
  queryTxt,
  rfc2136Provider,
} from "../src/index.ts";

// Servers that accept and then never answer: every outside call of the TLS upkeep must give up
// within its (here short) deadline, with an error naming what timed out.
const DEADLINE = 300;
const WITHIN = 5000;

async function timing(call: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const started = Date.now();
  const error = await call.then(
    () => new Error("resolved"),
    (e: Error) => e,
  );
  return { message: error.message, ms: Date.now() - started };
}

describe("outside calls of the TLS upkeep have deadlines", () => {
  let udp: UdpSocket;
  let udpPort = 0;
  let tcp: TcpServer;
  let tcpPort = 0;
  let http: Server;
  let httpPort = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    udp = createSocket("udp4"); // reads every datagram, answers none
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    udpPort = udp.address().port;
    tcp = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on("data", () => {}); // accepts, reads, never answers
    });
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    tcpPort = (tcp.address() as AddressInfo).port;
    // an ACME server whose directory answers and whose every other endpoint hangs
    http = createServer((req, res) => {
      if (req.url === "/dir") {
        const base = `http://127.0.0.1:${httpPort}`;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            newNonce: `${base}/nonce`,
            newAccount: `${base}/account`,
            newOrder: `${base}/order`,
            revokeCert: `${base}/revoke`,
            keyChange: `${base}/key-change`,
          }),
        );
      }
      // anything else: never answered
    });
    http.on("connection", (socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    httpPort = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    udp.close();
    await new Promise((resolve) => tcp.close(resolve));
    await new Promise((resolve) => http.close(resolve));
  });

  it("an RFC 2136 update over UDP", async () => {
    const dns = rfc2136Provider({
      server: "127.0.0.1",
      port: udpPort,
      zone: "preview.test",
      timeoutMs: DEADLINE,
    });
    const { message, ms } = await timing(dns.present("_acme-challenge.preview.test", "token"));
    expect(ms).toBeLessThan(WITHIN);
    expect(message).toBe(
      `update of zone preview.test failed: DNS server 127.0.0.1:${udpPort} timed out: no answer over UDP within ${DEADLINE} ms`,
    );
  });

  it("a DNS exchange over TCP", async () => {
    const { message, ms } = await timing(
      exchange({ host: "127.0.0.1", port: tcpPort }, Buffer.alloc(12), { tcp: true, timeoutMs: DEADLINE }),
    );
    expect(ms).toBeLessThan(WITHIN);
    expect(message).toBe(
      `DNS server 127.0.0.1:${tcpPort} timed out: no answer over TCP within ${DEADLINE} ms`,
    );
  });

  it("a TXT query", async () => {
    const { message, ms } = await timing(
      queryTxt({ host: "127.0.0.1", port: udpPort }, "_acme-challenge.preview.test", DEADLINE),
    );
    expect(ms).toBeLessThan(WITHIN);
    expect(message).toMatch(/timed out: no answer over UDP within 300 ms$/);
  });

  it("an httpreq present", async () => {
    const dns = httpreqProvider({ endpoint: `http://127.0.0.1:${httpPort}/httpreq`, timeoutMs: DEADLINE });
    const { message, ms } = await timing(dns.present("_acme-challenge.preview.test", "token"));
    expect(ms).toBeLessThan(WITHIN);
    expect(message).toBe(
      `httpreq present at http://127.0.0.1:${httpPort} timed out: no answer within ${DEADLINE} ms`,
    );
  });

  it("an ACME directory that never answers", async () => {
    const { message, ms } = await timing(
      issueAcmeCertificate({
        directoryUrl: `http://127.0.0.1:${httpPort}/hangs`,
        accountKeyPem: await createAcmeAccountKey(),
        hostnames: ["pr-1.preview.test"],
        challenge: "http-01",
        timeoutMs: DEADLINE,
      }),
    );
    expect(ms).toBeLessThan(WITHIN);
    expect(message).toBe(
      `ACME directory http://127.0.0.1:${httpPort}/hangs timed out: no answer within ${DEADLINE} ms`,
    );
  });

  it("an ACME server that answers its directory and then nothing", async () => {
    const { message, ms } = await timing(
      issueAcmeCertificate({
        directoryUrl: `http://127.0.0.1:${httpPort}/dir`,
        accountKeyPem: await createAcmeAccountKey(),
        hostnames: ["pr-1.preview.test"],
        challenge: "http-01",
        timeoutMs: DEADLINE,
      }),
    );
    // acme-client retries a failed request once after a short wait
    expect(ms).toBeLessThan(WITHIN);
    expect(message).toBe(
      `ACME server at http://127.0.0.1:${httpPort} timed out: no answer within ${DEADLINE} ms`,
    );
  });
});
