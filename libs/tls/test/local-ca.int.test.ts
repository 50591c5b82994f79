import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { writeKeyMaterial } from "@edgeplane/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalCa, issueCertificate, type LocalCa } from "../src/index.ts";

const run = promisify(execFile);

function get(port: number, options: { servername: string; ca?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: "127.0.0.1",
        port,
        path: "/",
        servername: options.servername,
        headers: { host: options.servername },
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    request.on("error", reject);
    request.end();
  });
}

function handshake(port: number, options: { servername: string; ca: string }): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ...options }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve(peer);
    });
    socket.on("error", reject);
  });
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as NodeJS.ErrnoException).code);
  }
  throw new Error("expected the connection to fail");
}

describe("local CA serving HTTPS", () => {
  let dir: string;
  let ca: LocalCa;
  let server: https.Server;
  let port: number;
  let paths: { certPath: string; keyPath: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeplane-tls-"));
    ca = await createLocalCa({ commonName: "edgeplane test CA" });
    const leaf = await issueCertificate(ca, { hostnames: ["*.preview.test", "preview.test"] });
    paths = await writeKeyMaterial(join(dir, "certs"), "_wildcard.preview.test", leaf);
    const [cert, key] = await Promise.all([
      readFile(paths.certPath, "utf8"),
      readFile(paths.keyPath, "utf8"),
    ]);
    server = https.createServer({ cert, key }, (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves a preview host that verifies against the root", async () => {
    expect(await get(port, { servername: "pr-1.preview.test", ca: ca.certPem })).toBe(200);
    const peer = await handshake(port, { servername: "pr-1.preview.test", ca: ca.certPem });
    expect(peer.subjectaltname).toBe("DNS:*.preview.test, DNS:preview.test");
  });

  it("covers the bare domain too", async () => {
    expect(await get(port, { servername: "preview.test", ca: ca.certPem })).toBe(200);
  });

  it("fails verification without the root", async () => {
    expect(await errorCode(get(port, { servername: "pr-1.preview.test" }))).toMatch(
      /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/,
    );
  });

  it("fails verification against a different root", async () => {
    const other = await createLocalCa();
    expect(await errorCode(get(port, { servername: "pr-1.preview.test", ca: other.certPem }))).toMatch(
      /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/,
    );
  });

  it("does not cover names outside the certificate", async () => {
    for (const servername of ["a.pr-1.preview.test", "pr-1.other.test"]) {
      expect(await errorCode(get(port, { servername, ca: ca.certPem }))).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    }
  });

  it("stores the key 0600 in a 0700 directory and the certificate as a full chain", async () => {
    expect((await stat(paths.keyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "certs"))).mode & 0o777).toBe(0o700);
    const fullchain = await readFile(paths.certPath, "utf8");
    expect(fullchain.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(fullchain.endsWith(ca.certPem)).toBe(true);
  });

  // openssl is a test dependency (scripts/services.sh installs it): without it this fails, it never skips
  it("verifies with openssl as a server certificate for the preview host, and not under another root", async () => {
    const rootPath = join(dir, "root.pem");
    const leafPath = join(dir, "leaf.pem");
    const leaf = await issueCertificate(ca, { hostnames: ["*.preview.test"] });
    await writeFile(rootPath, ca.certPem);
    await writeFile(leafPath, leaf.certPem);
    const args = ["verify", "-CAfile", rootPath, "-purpose", "sslserver"];
    const { stdout } = await run("openssl", [...args, "-verify_hostname", "pr-1.preview.test", leafPath]);
    expect(stdout.trim()).toBe(`${leafPath}: OK`);
    const stranger = await createLocalCa();
    await writeFile(rootPath, stranger.certPem);
    // refused for the reason that matters: no path to a trusted root (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
    const refused = await run("openssl", [...args, leafPath]).then(
      () => undefined,
      (error: { code?: unknown; stdout?: string; stderr?: string }) => error,
    );
    expect(refused?.code).toBe(2);
    expect(`${refused?.stdout}${refused?.stderr}`).toMatch(
      /error 20 at 0 depth lookup: unable to get local issuer certificate/,
    );
  });
});
