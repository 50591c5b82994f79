import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { parseImageRef } from "@edgeplane/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isLoopbackHost } from "../src/addresses.ts";
import { RegistryClient, RegistryError, RegistryUnavailableError } from "../src/index.ts";

// Small loopback servers play registries and token endpoints that misbehave on purpose: the client
// must not follow a realm where credentials do not belong, must not repeat what a remote said in
// its errors (they end up on deployments and the public status page), and must give up on a
// server that never answers within its deadline.

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Stub {
  port: number;
  host: string;
  requests: string[];
  handle: Handler;
  initial: Handler;
  server: Server;
  sockets: Set<Socket>;
}

const MARKER = "REMOTE-REPLY-7f3a";
const credentials = { username: "ci-bot", password: "pw-never-leaves" };
const stubs: Stub[] = [];

async function stub(handle: Handler = (_req, res) => res.writeHead(404).end()): Promise<Stub> {
  const entry = { requests: [] as string[], handle, initial: handle, sockets: new Set<Socket>() } as Stub;
  entry.server = createServer((req, res) => {
    entry.requests.push(`${req.method} ${req.url}`);
    entry.handle(req, res);
  });
  entry.server.on("connection", (socket) => {
    entry.sockets.add(socket);
    socket.on("close", () => entry.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => entry.server.listen(0, "127.0.0.1", resolve));
  entry.port = (entry.server.address() as AddressInfo).port;
  entry.host = `127.0.0.1:${entry.port}`;
  stubs.push(entry);
  return entry;
}

/** A registry that asks for a bearer token at `realm` (as ghcr.io does) and serves nothing else. */
function challenging(realm: string): Handler {
  return (_req, res) =>
    res
      .writeHead(401, {
        "www-authenticate": `Bearer realm="${realm}",service="reg",scope="repository:a/b:pull"`,
      })
      .end(`{"errors":[{"message":"${MARKER}"}]}`);
}

const client = (options: ConstructorParameters<typeof RegistryClient>[0] = {}) =>
  new RegistryClient({ credentials: () => credentials, timeoutMs: 2000, ...options });

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(Error);
  return outcome as Error;
}

afterEach(() => {
  for (const s of stubs) s.handle = s.initial;
});
afterAll(async () => {
  for (const s of stubs) {
    for (const socket of s.sockets) socket.destroy();
    await new Promise((resolve) => s.server.close(resolve));
  }
});

describe("loopback is decided on the parsed address", () => {
  it("knows 127.0.0.0/8, ::1 and localhost, and nothing that merely starts like them", () => {
    for (const host of [
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "[::1]",
      "localhost",
      "LOCALHOST",
      "::ffff:127.0.0.1",
    ])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [
      "127.evil.com",
      "127.0.0.1.nip.io",
      "localhost.evil.com",
      "128.0.0.1",
      "::2",
      "10.0.0.1",
    ])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it("speaks https to 127.evil.com, plain http only to loopback registries", () => {
    const c = new RegistryClient();
    expect(c.baseUrl("127.evil.com")).toBe("https://127.evil.com");
    expect(c.baseUrl("127.evil.com:5000")).toBe("https://127.evil.com:5000");
    expect(c.baseUrl("127.0.0.1:5001")).toBe("http://127.0.0.1:5001");
    expect(c.baseUrl("[::1]:5001")).toBe("http://[::1]:5001");
    expect(c.baseUrl("localhost:5001")).toBe("http://localhost:5001");
  });
});

describe("the bearer realm a registry names", () => {
  let tokens: Stub;
  let registry: Stub;
  beforeAll(async () => {
    tokens = await stub();
    registry = await stub();
  });

  it("is not followed over plain http to another host, even from a loopback registry", async () => {
    registry.handle = challenging("http://tokens.example.com/token");
    const error = await failure(client().resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toMatch(/refused the token endpoint registry 127\.0\.0\.1:\d+ named: plain http/);
  });

  it("is not followed over plain http from a registry that is not loopback, even to loopback", async () => {
    // a registry on the network (reached here through a fetch that sends it to a loopback stub)
    registry.handle = challenging(`http://${tokens.host}/token`);
    const remote = client({
      fetch: (input, init) => {
        const url = new URL(String(input));
        if (url.hostname === "registry.example.com")
          return fetch(`http://${registry.host}${url.pathname}`, init);
        return fetch(input, init);
      },
    });
    const error = await failure(remote.resolveDigest(parseImageRef("registry.example.com/a/b:v1")));
    expect(error.message).toMatch(/named: plain http/);
    expect(tokens.requests).toEqual([]); // the credentials never left
  });

  it("does not take 127.evil.com for loopback", async () => {
    registry.handle = challenging("http://127.evil.com/token");
    const lookups: string[] = [];
    const error = await failure(
      client({
        lookup: async (host) => {
          lookups.push(host);
          return [{ address: "127.0.0.1", family: 4 }];
        },
      }).resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)),
    );
    expect(error.message).toMatch(/named: plain http/);
  });

  it("is never a link-local or metadata address, whatever the scheme", async () => {
    const realms = [
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
      "https://169.254.169.254/token",
      "https://[fe80::1]/token",
      "https://[::ffff:169.254.169.254]/token",
      "https://[fd00:ec2::254]/token",
      "https://metadata.google.internal/computeMetadata/v1/token",
    ];
    for (const realm of realms) {
      registry.handle = challenging(realm);
      const error = await failure(client().resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)));
      expect(error, realm).toBeInstanceOf(RegistryError);
      expect(error.message, realm).toMatch(/refused the token endpoint .* named: (a link-local|plain http)/);
    }
    // nor a name that resolves to one
    registry.handle = challenging("https://tokens.example.com/token");
    const rebinding = client({ lookup: async () => [{ address: "169.254.169.254", family: 4 }] });
    const error = await failure(rebinding.resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)));
    expect(error.message).toMatch(/named: a name resolving to a link-local or metadata address/);
  });

  it("is followed to loopback from a loopback registry, without following the endpoint's redirects", async () => {
    tokens.handle = (_req, res) =>
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    registry.handle = challenging(`http://${tokens.host}/token`);
    const before = tokens.requests.length;
    const error = await failure(client().resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)));
    expect(tokens.requests.length).toBe(before + 1); // asked, and the redirect was not followed
    expect(error.message).toBe(`token endpoint of ${registry.host} gave no token`);
  });
});

describe("errors say what happened, never what the remote said", () => {
  let registry: Stub;
  let tokens: Stub;
  beforeAll(async () => {
    registry = await stub();
    tokens = await stub();
  });

  const assertClean = (error: Error, ...secrets: string[]) => {
    // the registry's own address may be named, and its random port may hold the digits of a status
    const message = error.message.replaceAll(registry.host, "<registry>");
    for (const text of [MARKER, "418", "451", "418 I'm a teapot", ...secrets])
      expect(message, error.message).not.toContain(text);
  };

  it("keeps status codes and bodies of the registry out of the message", async () => {
    registry.handle = (_req, res) => res.writeHead(418, { "x-detail": MARKER }).end(`${MARKER} 418`);
    const error = await failure(client().resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)));
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).status).toBe(418); // for the caller to act on, not to show
    expect(error.message).toBe(`registry ${registry.host} could not serve a/b:v1`);
    assertClean(error);
  });

  it("keeps the token endpoint's status, body and address out of the message, and logs without secrets", async () => {
    const logged: unknown[] = [];
    const log = (fields: Record<string, unknown>, message: string) => logged.push({ ...fields, message });
    const realm = `http://${tokens.host}/${MARKER}/token`;
    registry.handle = challenging(realm);
    for (const [status, body] of [
      [451, `{"details":"${MARKER}"}`],
      [200, `<html>${MARKER}</html>`],
      [503, MARKER],
    ] as const) {
      tokens.handle = (_req, res) => res.writeHead(status, { "content-type": "text/html" }).end(body);
      const error = await failure(client({ log }).resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)));
      expect(error.message).toMatch(/^token endpoint of 127\.0\.0\.1:\d+ (gave no token|is unavailable)$/);
      assertClean(error, tokens.host, "503");
    }
    registry.handle = challenging(`https://169.254.169.254/${MARKER}`);
    const refused = await failure(client({ log }).resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)));
    assertClean(refused, "169.254");
    // the details are in the logs, the credentials are not
    expect(JSON.stringify(logged)).toContain("451");
    expect(JSON.stringify(logged)).not.toContain(credentials.password);
    expect(JSON.stringify(logged)).not.toContain(
      Buffer.from(`ci-bot:${credentials.password}`).toString("base64"),
    );
  });
});

describe("deadlines", () => {
  let silent: Stub;
  let registry: Stub;
  beforeAll(async () => {
    silent = await stub(() => {}); // accepts, reads the request, never answers
    registry = await stub();
  });

  it("a registry that never answers fails the call within its deadline, saying so", async () => {
    const started = Date.now();
    const error = await failure(
      client({ timeoutMs: 300 }).resolveDigest(parseImageRef(`${silent.host}/a/b:v1`)),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error.message).toBe(`registry ${silent.host} timed out: no answer within 300 ms for a/b`);
  });

  it("a token endpoint that never answers fails the call within its deadline, saying so", async () => {
    registry.handle = challenging(`http://${silent.host}/token`);
    const started = Date.now();
    const error = await failure(
      client({ timeoutMs: 300 }).resolveDigest(parseImageRef(`${registry.host}/a/b:v1`)),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error.message).toBe(`token endpoint of ${registry.host} timed out: no answer within 300 ms`);
  });

  it("a blob download that stalls mid-body fails within its deadline", async () => {
    const digest = `sha256:${"a".repeat(64)}`;
    registry.handle = (_req, res) => {
      res.writeHead(200, { "content-length": "1000" });
      res.write("partial"); // and then nothing more
    };
    const started = Date.now();
    const error = await failure(client({ blobTimeoutMs: 300 }).fetchBlob(registry.host, "a/b", digest));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error.message).toBe(`download of blob ${digest} from ${registry.host} timed out after 300 ms`);
  });
});
