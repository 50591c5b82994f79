import { Agent, request } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type PeerCertificate } from "node:tls";
import { queryTxt } from "@edgeplane/tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChallTestSrv, curlHttps, HttpreqShim, Knot, Pebble } from "./support/acme.ts";
import { publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

/** The certificate the gateway presents for `servername`, verified against `ca`. */
function servedCertificate(port: number, servername: string, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, ca }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.once("error", reject);
  });
}

/** GET over HTTPS to the gateway with SNI and Host set to `hostname`, trusting only `ca`. */
function httpsGet(
  port: number,
  hostname: string,
  ca: string,
  agent: Agent | false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/",
        servername: hostname,
        headers: { host: hostname },
        ca,
        agent,
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    req.end();
  });
}

// ACME end to end against pebble, a real ACME server on loopback (Debian's `pebble`): a wildcard by
// DNS-01 (lego's httpreq hook, and RFC 2136 updates to Knot DNS signed with TSIG), a per-host
// certificate by HTTP-01 through the gateway, and renewal of short-lived certificates, also while the
// ACME server is down.
describe("TLS at the gateway with ACME", () => {
  const system = new TestSystem();
  const repo = `acme/tls-${system.id}`;
  const challtestsrv = new ChallTestSrv();
  const shim = new HttpreqShim(challtestsrv, { username: "edgeplane", password: "httpreq-password-1" });
  const knot = new Knot("zone.test");
  let pebble: Pebble; // challtestsrv DNS; certificates for 5 years
  let pebbleKnot: Pebble; // Knot DNS
  let pebbleShort: Pebble; // certificates valid for 40 seconds
  let image = "";

  const waitForCertificate = async (project: string, until: (c: any) => boolean, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: any[] = [];
    while (Date.now() < deadline) {
      last = (await system.api("GET", `/v1/projects/${project}/certificates`)).body.certificates ?? [];
      const found = last.find(until);
      if (found) return found;
      await sleep(250);
    }
    throw new Error(
      `no matching certificate for ${project}: ${JSON.stringify(last)}\n${system.logs.slice(-30).join("\n")}`,
    );
  };
  /** curl, retried while the gateway has not yet reloaded with the certificate. */
  const curlUntilOk = async (ca: string, hostname: string) => {
    const deadline = Date.now() + 20_000;
    let result = await curlHttps(ca, hostname, system.gatewayHttpsPort);
    while (result.code !== 0 && Date.now() < deadline) {
      await sleep(250);
      result = await curlHttps(ca, hostname, system.gatewayHttpsPort);
    }
    return result;
  };
  const deploy = async (project: string, environment: string) => {
    const res = await system.api("POST", "/v1/deployments", { body: { project, environment, image } });
    expect(res.status).toBe(202);
    expect((await system.waitForDeployment(res.body.id)).status).toBe("ready");
  };

  beforeAll(async () => {
    image = await publishTestImage(repo, "v1", { message: "tls ok" });
    await system.start({
      EDGEPLANE_TLS_CHECK_INTERVAL_MS: "1000",
      EDGEPLANE_TLS_RETRY_AFTER_MS: "1000",
    });
    await challtestsrv.start();
    await shim.start();
    await knot.start();
    const dns = `127.0.0.1:${challtestsrv.dnsPort}`;
    pebble = new Pebble({ httpPort: system.gatewayPort, dnsServer: dns });
    pebbleKnot = new Pebble({ httpPort: system.gatewayPort, dnsServer: `127.0.0.1:${knot.port}` });
    pebbleShort = new Pebble({ httpPort: system.gatewayPort, dnsServer: dns, validitySeconds: 40 });
    await Promise.all([pebble.start(), pebbleKnot.start(), pebbleShort.start()]);
  });
  afterAll(async () => {
    await system.stop();
    await Promise.all([pebble?.remove(), pebbleKnot?.remove(), pebbleShort?.remove()]);
    await Promise.all([shim.stop(), knot.stop(), challtestsrv.stop()]);
  });

  it("issues a wildcard certificate by DNS-01 through the httpreq hook; curl verifies it", async () => {
    const created = await system.api("POST", "/v1/projects", {
      body: {
        name: "wild",
        domain: "wild.test",
        port: 8080,
        tls: {
          mode: "acme",
          directoryUrl: pebble.directoryUrl,
          email: "ops@wild.test",
          challenge: "dns-01",
          dns: {
            provider: "httpreq",
            endpoint: shim.endpoint,
            username: "edgeplane",
            password: "httpreq-password-1",
          },
          caBundle: pebble.serverCert,
        },
      },
    });
    expect(created.status).toBe(201);
    // the password is write-only
    expect(created.body.tls).toEqual({
      mode: "acme",
      directoryUrl: pebble.directoryUrl,
      email: "ops@wild.test",
      challenge: "dns-01",
      dns: { provider: "httpreq", endpoint: shim.endpoint, username: "edgeplane", passwordSet: true },
      caBundleSet: true,
    });
    expect(JSON.stringify((await system.api("GET", "/v1/projects/wild")).body)).not.toContain(
      "httpreq-password-1",
    );

    await deploy("wild", "pr-1");
    const cert = await waitForCertificate("wild", (c) => c.status === "valid");
    expect(cert).toMatchObject({
      name: "*.wild.test",
      hostnames: ["*.wild.test"],
      issuer: "acme",
      lastError: null,
    });
    expect(shim.calls.map((c) => [c.path, c.fqdn, c.authorized])).toEqual([
      ["/acme-dns/present", "_acme-challenge.wild.test.", true],
      ["/acme-dns/cleanup", "_acme-challenge.wild.test.", true],
    ]);

    const root = await pebble.root();
    const https = await curlUntilOk(root, "pr-1.wild.test");
    expect(https).toMatchObject({ code: 0, status: 200, body: "tls ok\n" });
    // the same wildcard serves the status page of a host without an environment
    const unknown = await curlHttps(root, "pr-9.wild.test", system.gatewayHttpsPort);
    expect(unknown).toMatchObject({ code: 0, status: 404 });
    // a name under no project's domain gets no certificate at all: the handshake is refused
    const nobody = await curlHttps(root, "pr-1.nobody.test", system.gatewayHttpsPort);
    expect(nobody.code).not.toBe(0);
    expect(system.logs.join("\n")).not.toContain("httpreq-password-1");
    expect(system.logs.join("\n")).not.toContain("PRIVATE KEY");
  });

  it("issues a per-host certificate by HTTP-01, answered by the gateway; curl verifies it", async () => {
    const created = await system.api("POST", "/v1/projects", {
      body: {
        name: "hosts",
        domain: "preview.test",
        port: 8080,
        tls: {
          mode: "acme",
          directoryUrl: pebble.directoryUrl,
          challenge: "http-01",
          caBundle: pebble.serverCert,
        },
      },
    });
    expect(created.status).toBe(201);
    await deploy("hosts", "pr-1");
    const cert = await waitForCertificate("hosts", (c) => c.status === "valid");
    expect(cert).toMatchObject({
      name: "pr-1.preview.test",
      hostnames: ["pr-1.preview.test"],
      issuer: "acme",
    });

    const https = await curlUntilOk(await pebble.root(), "pr-1.preview.test");
    expect(https).toMatchObject({ code: 0, status: 200, body: "tls ok\n" });
    // plain HTTP is redirected, except the ACME challenge path. HTTPS answering proves a new nginx
    // worker has the config; the old ones may take one more request each while they retire.
    const deadline = Date.now() + 5000;
    let plain = await system.viaGateway("pr-1.preview.test");
    while (plain.status !== 308 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      plain = await system.viaGateway("pr-1.preview.test");
    }
    expect(plain.status).toBe(308);
    expect((await system.viaGateway("pr-1.preview.test", "/.well-known/acme-challenge/gone")).status).toBe(
      404,
    );
    // HTTP-01 certifies routed hosts only: a host without an environment keeps its page over HTTP
    expect((await system.viaGateway("pr-2.preview.test")).status).toBe(404);
  });

  it("issues a wildcard by DNS-01 through RFC 2136 updates signed with TSIG (Knot DNS)", async () => {
    const created = await system.api("POST", "/v1/projects", {
      body: {
        name: "zone",
        domain: "zone.test",
        port: 8080,
        tls: {
          mode: "acme",
          directoryUrl: pebbleKnot.directoryUrl,
          dns: {
            provider: "rfc2136",
            server: "127.0.0.1",
            port: knot.port,
            tsigKeyName: knot.keyName,
            tsigSecret: knot.secret,
          },
          caBundle: pebbleKnot.serverCert,
        },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.tls.challenge).toBe("dns-01");
    expect(created.body.tls.dns).toEqual({
      provider: "rfc2136",
      server: "127.0.0.1",
      port: knot.port,
      tsigKeyName: knot.keyName,
      tsigAlgorithm: "hmac-sha256",
      tsigSecretSet: true,
    });
    await deploy("zone", "pr-1");
    const cert = await waitForCertificate("zone", (c) => c.status === "valid");
    expect(cert).toMatchObject({ name: "*.zone.test", issuer: "acme" });
    const https = await curlUntilOk(await pebbleKnot.root(), "pr-1.zone.test");
    expect(https).toMatchObject({ code: 0, status: 200, body: "tls ok\n" });
    // Knot applied the signed updates: the challenge record came and went
    expect(knot.output).toMatch(/\[zone\.test\.\] DDNS, finished/);
    expect(await queryTxt({ host: "127.0.0.1", port: knot.port }, "_acme-challenge.zone.test")).toEqual([]);
    expect(system.logs.join("\n")).not.toContain(knot.secret);
  });

  it("rejects TLS settings that cannot work, and changes nothing", async () => {
    const bad = [
      { mode: "acme", directoryUrl: pebble.directoryUrl }, // dns-01 without a provider
      { mode: "acme", directoryUrl: "ftp://x", challenge: "http-01" },
      {
        mode: "acme",
        directoryUrl: pebble.directoryUrl,
        dns: { provider: "rfc2136", server: "ns.example.com" },
      },
      {
        mode: "acme",
        directoryUrl: pebble.directoryUrl,
        dns: { provider: "rfc2136", server: "127.0.0.1", tsigKeyName: "k." },
      },
      { mode: "sometimes" },
    ];
    for (const tls of bad) {
      const res = await system.api("PATCH", "/v1/projects/wild", { body: { tls } });
      expect(res.status, JSON.stringify(tls)).toBe(400);
    }
    expect((await system.api("GET", "/v1/projects/wild")).body.tls.dns.provider).toBe("httpreq");
  });

  it("renews a certificate close to expiry without a failed request; a failing ACME server leaves the old one serving, the failure visible", async () => {
    const created = await system.api("POST", "/v1/projects", {
      body: {
        name: "short",
        domain: "short.test",
        port: 8080,
        tls: {
          mode: "acme",
          directoryUrl: pebbleShort.directoryUrl,
          dns: {
            provider: "httpreq",
            endpoint: shim.endpoint,
            username: "edgeplane",
            password: "httpreq-password-1",
          },
          caBundle: pebbleShort.serverCert,
        },
      },
    });
    expect(created.status).toBe(201);
    await deploy("short", "pr-1");
    const first = await waitForCertificate("short", (c) => c.status === "valid");
    const root = await pebbleShort.root();
    expect((await curlUntilOk(root, "pr-1.short.test")).status).toBe(200);
    // The API shows a certificate once it is stored, a moment before the gateway's reload with it has
    // taken over: start the load once the handshakes agree.
    for (let agreed = 0; agreed < 10; ) {
      const ok = await servedCertificate(system.gatewayHttpsPort, "pr-1.short.test", root).then(
        () => true,
        () => false,
      );
      agreed = ok ? agreed + 1 : 0;
      await sleep(50);
    }
    // 40-second certificates are due once a third of their lifetime is left
    expect(Date.parse(first.notAfter) - Date.parse(first.notBefore)).toBeLessThanOrEqual(40_000);

    // load across the renewal: kept-alive and fresh connections, every answer must verify and be 200
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const results: Array<{ status: number; body: string } | string> = [];
    let stop = false;
    const load = (async () => {
      const until = Date.now() + 90_000;
      for (let i = 0; !stop && Date.now() < until; i++) {
        const agent = i % 2 === 0 ? keepAlive : false;
        const once = () => httpsGet(system.gatewayHttpsPort, "pr-1.short.test", root, agent);
        results.push(
          await once().catch((error: { reusedSocket?: boolean; code?: string; message: string }) =>
            // a kept-alive connection closed by the server just as a request went out is retried once, as browsers do
            error.reusedSocket && error.code === "ECONNRESET"
              ? once().catch((e: Error) => e.message)
              : error.message,
          ),
        );
        await sleep(20);
      }
    })();
    const renewed = await waitForCertificate(
      "short",
      (c) => c.status === "valid" && c.serialNumber !== first.serialNumber,
      60_000,
    );
    const deadline = Date.now() + 15_000;
    let served = await servedCertificate(system.gatewayHttpsPort, "pr-1.short.test", root);
    while (served.serialNumber !== renewed.serialNumber && Date.now() < deadline) {
      await sleep(200);
      served = await servedCertificate(system.gatewayHttpsPort, "pr-1.short.test", root);
    }
    expect(served.serialNumber).toBe(renewed.serialNumber);
    await sleep(500);
    stop = true;
    await load;
    keepAlive.destroy();
    expect(results.length).toBeGreaterThan(50);
    expect(results.filter((r) => typeof r === "string" || r.status !== 200 || r.body !== "tls ok\n")).toEqual(
      [],
    );

    // the ACME server goes away: the next renewal fails, the current certificate keeps serving
    await pebbleShort.stop();
    const stoppedAt = Date.now();
    const failed = await waitForCertificate(
      "short",
      (c) => c.lastError !== null && Date.parse(c.lastAttemptAt) >= stoppedAt,
      60_000,
    );
    expect(failed).toMatchObject({ status: "valid", serialNumber: renewed.serialNumber });
    expect(failed.lastError).toMatch(/ECONNREFUSED|connect/i);
    const still = await curlHttps(root, "pr-1.short.test", system.gatewayHttpsPort);
    expect(still).toMatchObject({ code: 0, status: 200, body: "tls ok\n" });
    expect((await servedCertificate(system.gatewayHttpsPort, "pr-1.short.test", root)).serialNumber).toBe(
      renewed.serialNumber,
    );
    expect(
      system.logs.some((l) =>
        l.includes("certificate renewal failed; the current certificate keeps serving"),
      ),
    ).toBe(true);
    expect(system.logs.join("\n")).not.toContain("PRIVATE KEY");
  });
});
