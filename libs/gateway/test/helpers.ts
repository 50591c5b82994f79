import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { type Agent, createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { PeerCertificate, TLSSocket } from "node:tls";

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createTcpServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

export interface Upstream {
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** An HTTP server on `address` (127.0.0.1) that answers every request with `name`. */
export async function startUpstream(
  name: string,
  handler?: Parameters<typeof createServer>[1],
  address = "127.0.0.1",
): Promise<Upstream> {
  const server = createServer(
    handler ??
      ((_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(name);
      }),
  );
  server.listen(0, address);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    port,
    server,
    async close() {
      if (!server.listening) return;
      const closed = once(server, "close");
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

export interface Reply {
  status: number;
  body: string;
}

/** GET / on the gateway with the given Host header. */
export async function fetchHost(port: number, host: string, agent: Agent | false = false): Promise<Reply> {
  const { status, body } = await send(port, host, { agent });
  return { status, body: body.toString("utf8") };
}

export interface SendOptions {
  agent?: Agent | false;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Wait this long before reading the response, so the gateway has to hold it. */
  readDelayMs?: number;
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request to the gateway with a given Host header (fetch() does not let a caller set Host). */
export function send(port: number, host: string, options: SendOptions = {}): Promise<RawReply> {
  const { agent = false, method = "GET", path = "/", headers = {}, body, readDelayMs = 0 } = options;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method, headers: { ...headers, host }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
        if (readDelayMs > 0) {
          res.pause();
          setTimeout(() => res.resume(), readDelayMs);
        }
      },
    );
    req.on("error", (error) =>
      reject(Object.assign(error, { reusedSocket: req.reusedSocket, socket: req.socket })),
    );
    req.setTimeout(5000, () => req.destroy(new Error("request timed out")));
    req.end(body);
  });
}

/**
 * True if a request failed because the server closed an idle keep-alive connection just as the
 * request was sent on it. Nothing was answered, so an idempotent request may be retried once on a new
 * connection (RFC 9112, section 9.3.1); browsers do so, and Node documents `reusedSocket` for it.
 */
export function isStaleKeepAlive(error: unknown): boolean {
  const { reusedSocket, code } = error as { reusedSocket?: boolean; code?: string };
  return reusedSocket === true && code === "ECONNRESET";
}

/** Stops an nginx master gracefully enough that it takes its workers down with it. */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const settled = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!settled) {
    child.kill("SIGKILL");
    await exited;
  }
}

export interface TlsReply extends Reply {
  /** The certificate the gateway served for the name sent by SNI. */
  certificate: PeerCertificate;
}

/** GET over HTTPS with SNI and Host set to `host`, verified against `ca`. */
export function fetchTls(port: number, host: string, ca: string, path = "/"): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port, path, servername: host, headers: { host }, ca, agent: false },
      (res) => {
        const certificate = (res.socket as TLSSocket).getPeerCertificate();
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), certificate }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("request timed out")));
    req.end();
  });
}
