import { createSocket } from "node:dgram";
import { isIPv6, Socket } from "node:net";
import { DnsWireError, flags } from "./wire.ts";

export interface DnsServer {
  host: string;
  port: number;
}

/** How long a DNS server has to answer when no deadline is given. */
export const DNS_TIMEOUT_MS = 10_000;

export interface ExchangeOptions {
  /** For the answer, per transport (UDP, then TCP when truncated); default DNS_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Send over TCP from the start (otherwise UDP, falling back to TCP when the answer is truncated). */
  tcp?: boolean;
}

/** Sends one message and resolves with the answer whose id matches. */
export async function exchange(
  server: DnsServer,
  message: Buffer,
  options: ExchangeOptions = {},
): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? DNS_TIMEOUT_MS;
  if (options.tcp || message.length > 512) return exchangeTcp(server, message, timeoutMs);
  const answer = await exchangeUdp(server, message, timeoutMs);
  return flags.truncated(answer.readUInt16BE(2)) ? exchangeTcp(server, message, timeoutMs) : answer;
}

function exchangeUdp(server: DnsServer, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    const id = message.readUInt16BE(0);
    const done = (error: Error | null, answer?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else if (answer) resolve(answer);
    };
    const timer = setTimeout(
      () =>
        done(
          new Error(
            `DNS server ${server.host}:${server.port} timed out: no answer over UDP within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    socket.on("error", (error) => done(error));
    socket.on("message", (answer, remote) => {
      // only the server we asked, with our id, may answer
      if (remote.port !== server.port || answer.length < 12 || answer.readUInt16BE(0) !== id) return;
      done(null, answer);
    });
    socket.send(message, server.port, server.host, (error) => {
      if (error) done(error);
    });
  });
}

function exchangeTcp(server: DnsServer, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const done = (error: Error | null, answer?: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else if (answer) resolve(answer);
    };
    const timer = setTimeout(
      () =>
        done(
          new Error(
            `DNS server ${server.host}:${server.port} timed out: no answer over TCP within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    socket.on("error", (error) => done(error));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length < 2 + length) return;
      const answer = received.subarray(2, 2 + length);
      if (answer.length < 12 || answer.readUInt16BE(0) !== message.readUInt16BE(0)) {
        done(new DnsWireError("answer over TCP does not match the request id"));
      } else done(null, answer);
    });
    socket.on("close", () =>
      done(new Error(`${server.host}:${server.port} closed the TCP connection without an answer`)),
    );
    socket.connect(server.port, server.host, () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(message.length);
      socket.write(Buffer.concat([prefix, message]));
    });
  });
}
