import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { type IncomingHttpHeaders, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createLocalCa } from "@edgeplane/tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { curlHttps } from "./support/acme.ts";
import { publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

/** One GET with a chosen Host header (fetch does not let a caller set Host). */
function get(port: number, host: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, headers: { ...headers, host }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

// The request path without ACME: a page for every host under a project's domain, hosts-file lines for
// the ready environments, and HTTPS from edgeplane's own local CA, verified with the exported root.
describe("request path: status pages, hosts overrides, local CA", () => {
  const system = new TestSystem();
  const repo = `acme/pages-${system.id}`;
  const images = { good: "", slow: "", broken: "" };
  let tmp = "";

  beforeAll(async () => {
    [images.good, images.slow, images.broken] = await Promise.all([
      publishTestImage(repo, "good", { message: "pages ok" }),
      // listens only after a while: its deployment stays in `starting` long enough to be looked at
      publishTestImage(repo, "slow", {
        message: "slow ok",
        cmd: ["/bin/sh", "-c", "sleep 6; exec /bin/serve"],
      }),
      publishTestImage(repo, "broken", { cmd: ["/bin/sh", "-c", "echo listening nowhere; sleep 3600"] }),
    ]);
    tmp = await mkdtemp(join(tmpdir(), "edgeplane-hosts-"));
    await system.start({
      EDGEPLANE_HEALTH_TIMEOUT_MS: "12000",
      EDGEPLANE_TLS_CHECK_INTERVAL_MS: "1000",
      EDGEPLANE_TLS_RETRY_AFTER_MS: "1000",
    });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "web", domain: "preview.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
    expect(project.body.tls).toEqual({ mode: "off" });
  });
  afterAll(async () => {
    await system.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const deploy = async (environment: string, image: string) => {
    const res = await system.api("POST", "/v1/deployments", { body: { project: "web", environment, image } });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const page = (hostname: string, path = "/") => system.viaGateway(hostname, path);

  it("a deploying host shows its phase and since when, refreshing itself; JSON for scripts", async () => {
    const ready = await deploy("pr-1", images.good);
    expect((await system.waitForDeployment(ready)).status).toBe("ready");
    const id = await deploy("pr-3", images.slow);
    const starting = await system.waitForDeployment(id, (d) => d.status === "starting", 30_000);

    const html = await page("pr-3.preview.test");
    expect(html.status).toBe(503);
    expect(html.text).toContain("pr-3 is deploying");
    expect(html.text).toContain('<li aria-current="step">Starting the container');
    expect(html.text).toContain('<meta http-equiv="refresh" content="3">');
    expect(html.text).toContain(`datetime="${starting.phases.queued}"`);

    const json = await page("pr-3.preview.test", "/some/deep/link?format=json");
    expect(json.status).toBe(503);
    expect(JSON.parse(json.text)).toMatchObject({
      state: "deploying",
      environment: "pr-3",
      project: "web",
      phase: "starting",
      since: starting.phases.queued,
      url: `http://pr-3.preview.test:${system.gatewayPort}`,
      retryAfterSeconds: 3,
    });
    // Accept: application/json gets the same twin, straight from the API as the gateway asks it
    const accept = await get(system.gatewayPort, "pr-3.preview.test", "/", { accept: "application/json" });
    expect(accept.headers["content-type"]).toContain("application/json");
    expect(accept.headers["retry-after"]).toBe("3");
    expect(JSON.parse(accept.body)).toMatchObject({ state: "deploying", environment: "pr-3" });

    // and once it is ready, the host serves the environment itself
    expect((await system.waitForDeployment(id)).status).toBe("ready");
    expect(await page("pr-3.preview.test")).toEqual({ status: 200, text: "slow ok\n" });
  });

  it("a failed host shows the reason; an unknown host says so; a host under no project's domain gets a plain 404", async () => {
    const id = await deploy("pr-2", images.broken);
    const failed = await system.waitForDeployment(id);
    expect(failed.status).toBe("failed");

    const html = await page("pr-2.preview.test");
    expect(html.status).toBe(502);
    expect(html.text).toContain("pr-2 failed to deploy");
    expect(html.text).toContain("health check");
    const json = JSON.parse((await page("pr-2.preview.test", "/?format=json")).text);
    expect(json).toMatchObject({
      state: "failed",
      environment: "pr-2",
      reason: failed.error,
      failedAt: failed.phases.failed,
    });

    const unknown = await page("pr-404.preview.test");
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain("No environment here");
    expect(unknown.text).toContain("pr-404.preview.test");
    expect(JSON.parse((await page("pr-404.preview.test", "/?format=json")).text)).toEqual({
      state: "unknown",
      hostname: "pr-404.preview.test",
      message: "There is no environment at pr-404.preview.test.",
    });

    expect(await page("pr-1.elsewhere.test")).toEqual({
      status: 404,
      text: "no environment serves this host\n",
    });
  });

  it("lists ready environments across the projects a token may read", async () => {
    await system.api("POST", "/v1/projects", { body: { name: "other", domain: "other.test", port: 8080 } });
    const mine = await system.api("POST", "/v1/tokens", {
      body: { name: "reader-web", projects: ["web"], scopes: ["read"] },
    });
    const theirs = await system.api("POST", "/v1/tokens", {
      body: { name: "reader-other", projects: ["other"], scopes: ["read"] },
    });
    const ready = await system.api("GET", "/v1/environments?status=ready", { token: mine.body.token });
    expect(ready.status).toBe(200);
    expect(ready.body.environments.map((e: { hostname: string }) => e.hostname)).toEqual([
      "pr-1.preview.test",
      "pr-3.preview.test",
    ]);
    const none = await system.api("GET", "/v1/environments?status=ready", { token: theirs.body.token });
    expect(none.body.environments).toEqual([]);
    expect((await system.api("GET", "/v1/environments", { token: null })).status).toBe(401);
    expect((await system.api("GET", "/v1/environments?status=nope")).status).toBe(400);
    // certificates: per project, for tokens that may read it; the CA root for any valid token
    expect(
      (await system.api("GET", "/v1/projects/web/certificates", { token: mine.body.token })).status,
    ).toBe(200);
    expect(
      (await system.api("GET", "/v1/projects/web/certificates", { token: theirs.body.token })).status,
    ).toBe(403);
    expect((await system.api("GET", "/v1/projects/nope/certificates")).status).toBe(404);
    expect((await system.api("GET", "/v1/ca/root", { token: null })).status).toBe(401);
  });

  it("edgeplane hosts prints the lines, and --write keeps everything outside its block, run after run", async () => {
    const printed = await system.cli(["hosts"]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(
      "# BEGIN edgeplane\n# Managed by edgeplane: changes between these markers are overwritten.\n" +
        "127.0.0.1 pr-1.preview.test\n127.0.0.1 pr-3.preview.test\n# END edgeplane\n",
    );

    const file = join(tmp, "hosts");
    const unrelated =
      "127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n# a comment someone cares about\n10.0.0.5 db.internal";
    await writeFile(file, unrelated);
    const first = await system.cli(["hosts", "--write", file]);
    expect(first.code).toBe(0);
    const afterFirst = await readFile(file, "utf8");
    const second = await system.cli(["hosts", "--write", file]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("already up to date");
    const afterSecond = await readFile(file, "utf8");
    expect(afterSecond).toBe(afterFirst);
    expect(afterSecond.startsWith(`${unrelated}\n`)).toBe(true);
    expect(afterSecond.match(/# BEGIN edgeplane/g)).toHaveLength(1);
    expect(afterSecond.slice(unrelated.length + 1)).toBe(printed.stdout);

    const usage = await system.cli(["hosts", "--bogus"]);
    expect(usage.code).toBe(2);
    const noToken = await system.cli(["hosts"], { EDGEPLANE_TOKEN: "ept_wrong-token-wrong-token" });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain("401");
  });

  it("serves HTTPS from the local CA, verified with the root `edgeplane ca export` prints", async () => {
    const patched = await system.api("PATCH", "/v1/projects/web", { body: { tls: { mode: "local" } } });
    expect(patched.status).toBe(200);
    expect(patched.body.tls).toEqual({ mode: "local" });

    const deadline = Date.now() + 30_000;
    let certs: any[] = [];
    while (Date.now() < deadline) {
      certs = (await system.api("GET", "/v1/projects/web/certificates")).body.certificates;
      if (certs.some((c) => c.status === "valid")) break;
      await sleep(250);
    }
    expect(certs).toHaveLength(1);
    expect(certs[0]).toMatchObject({
      name: "*.preview.test",
      hostnames: ["*.preview.test"],
      issuer: "local",
      status: "valid",
      lastError: null,
    });
    expect(JSON.stringify(certs)).not.toContain("PRIVATE KEY");

    const exported = await system.cli(["ca", "export"]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(exported.stdout).not.toContain("PRIVATE KEY");

    // the gateway picks the certificate up on its next render
    let https = await curlHttps(exported.stdout, "pr-1.preview.test", system.gatewayHttpsPort);
    while (https.code !== 0 && Date.now() < deadline) {
      await sleep(250);
      https = await curlHttps(exported.stdout, "pr-1.preview.test", system.gatewayHttpsPort);
    }
    expect(https).toMatchObject({ code: 0, status: 200, body: "pages ok\n" });

    // HTTP now redirects to HTTPS; the ACME challenge path does not
    const redirect = await get(system.gatewayPort, "pr-1.preview.test", "/x?y=1");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe(`https://pr-1.preview.test:${system.gatewayHttpsPort}/x?y=1`);
    expect((await system.viaGateway("pr-1.preview.test", "/.well-known/acme-challenge/none")).status).toBe(
      404,
    );

    // status pages come over HTTPS too, with the same wildcard certificate
    const failed = await curlHttps(exported.stdout, "pr-2.preview.test", system.gatewayHttpsPort);
    expect(failed.code).toBe(0);
    expect(failed.status).toBe(502);
    // an untrusting client is refused: the certificate really comes from the exported root
    const untrusted = await curlHttps(
      (await createLocalCa()).certPem,
      "pr-1.preview.test",
      system.gatewayHttpsPort,
    );
    expect(untrusted.code).toBe(60); // curl: peer certificate cannot be authenticated with known CA certificates

    // environment URLs are shown as HTTPS on the gateway's HTTPS port
    const env = await system.api("GET", "/v1/projects/web/environments/pr-1");
    expect(env.body.url).toBe(`https://pr-1.preview.test:${system.gatewayHttpsPort}`);
  });

  it("a destroyed host says it is gone", async () => {
    const res = await system.api("DELETE", "/v1/projects/web/environments/pr-3");
    expect(res.status).toBe(202);
    await system.waitForEnvironment("web", "pr-3", (e) => e.status === "destroyed");
    const root = (await system.cli(["ca", "export"])).stdout;
    const gone = await curlHttps(root, "pr-3.preview.test", system.gatewayHttpsPort, "/?format=json");
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.body)).toMatchObject({ state: "destroyed", environment: "pr-3", project: "web" });
  });
});
