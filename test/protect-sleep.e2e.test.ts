import { randomBytes, randomUUID } from "node:crypto";
import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullRequestPayload, signedDelivery } from "./support/github.ts";
import { docker, publishTestImage } from "./support/images.ts";
import { type Environment, TestSystem } from "./support/system.ts";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

// Private previews and previews that sleep, through the gateway as a browser, curl or CI would reach them.
describe("protected and sleeping previews", () => {
  const system = new TestSystem();
  const repo = `acme/nap-${system.id}`;
  const bypassToken = `bp_${randomBytes(24).toString("hex")}`;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const webhookSecret = `whsec_${randomBytes(16).toString("hex")}`;
  const repository = `acme/nap-${system.id}`;
  const images: Record<string, string> = {};

  /** A request through the gateway with exactly these headers. */
  function get(host: string, path = "/", headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: system.gatewayPort, path, headers: { host, ...headers }, agent: false },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      req.on("error", reject);
      req.setTimeout(60_000, () => req.destroy(new Error("timed out")));
      req.end();
    });
  }
  const basic = (user: string, pass: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
  });

  async function deploy(project: string, environment: string, image: string) {
    const res = await system.api<{ id: string }>("POST", "/v1/deployments", {
      body: { project, environment, image },
    });
    expect(res.status).toBe(202);
    expect((await system.waitForDeployment(res.body.id)).status).toBe("ready");
  }

  async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await sleep(200);
    }
    return false;
  }

  const environment = (project: string, name: string) =>
    system.api<Environment & { sleepingSince: string | null }>(
      "GET",
      `/v1/projects/${project}/environments/${name}`,
    );
  // asleep: the intent recorded and its containers stopped (its hosts went to the waker before that)
  const asleep = (project: string, name: string) =>
    until(async () => {
      const env = (await environment(project, name)).body;
      if (env.status !== "sleeping") return false;
      const containers = await system.containers(env.id);
      return containers.length > 0 && containers.every((c) => c.State !== "running");
    }, 60_000);

  beforeAll(async () => {
    for (const tag of ["a", "b"])
      images[tag] = await publishTestImage(repo, tag, { message: `build ${tag}` });
    await system.start({ EDGEPLANE_SLEEP_CHECK_MS: "1000", EDGEPLANE_RESYNC_GRACE_MS: "2000" });
    const priv = await system.api("POST", "/v1/projects", {
      body: {
        name: "priv",
        domain: "priv.test",
        port: 8080,
        healthcheckPath: "/healthz",
        protection: { mode: "basic", username: "reviewer", password, scope: "previews" },
        bypassToken,
      },
    });
    expect(priv.status).toBe(201);
    expect(JSON.stringify(priv.body)).not.toContain(password);
    expect(JSON.stringify(priv.body)).not.toContain(bypassToken);
    expect(priv.body).toMatchObject({
      protection: { mode: "basic", username: "reviewer", scope: "previews" },
      bypassTokenSet: true,
    });
    const nap = await system.api("POST", "/v1/projects", {
      body: {
        name: "nap",
        domain: "nap.test",
        port: 8080,
        healthcheckPath: "/healthz",
        sleepAfterSeconds: 10,
        repository,
        webhookSecret,
      },
    });
    expect(nap.status).toBe(201);
    await deploy("priv", "pr-1", images.a ?? "");
    await deploy("priv", "staging", images.a ?? "");
  }, 120_000);

  afterAll(async () => {
    await system.stop();
  });

  it("answers a protected preview 401 with a Basic challenge without credentials, and the wrong ones", async () => {
    const bare = await get("pr-1.priv.test");
    expect(bare.status).toBe(401);
    expect(bare.headers["www-authenticate"]).toBe('Basic realm="priv previews", charset="UTF-8"');
    expect(bare.text).not.toContain("build a");
    expect((await get("pr-1.priv.test", "/", basic("reviewer", "wrong-password"))).status).toBe(401);
    expect((await get("pr-1.priv.test", "/", basic("someone", password))).status).toBe(401);
    expect((await get("pr-1.priv.test", "/", { "x-edgeplane-bypass": "bp_wrong" })).status).toBe(401);
  });

  it("serves it with the credentials, the bypass header, and the bypass link's cookie", async () => {
    expect(await get("pr-1.priv.test", "/", basic("reviewer", password))).toMatchObject({
      status: 200,
      text: "build a\n",
    });
    expect(await get("pr-1.priv.test", "/", { "x-edgeplane-bypass": bypassToken })).toMatchObject({
      status: 200,
      text: "build a\n",
    });
    const link = await get("pr-1.priv.test", `/healthz?x=1&edgeplane_bypass=${bypassToken}`);
    expect(link.status).toBe(302);
    expect(link.headers.location).toBe("/healthz?x=1");
    const cookie = String(link.headers["set-cookie"]).split(";")[0] ?? "";
    expect(String(link.headers["set-cookie"])).toContain("HttpOnly");
    expect(await get("pr-1.priv.test", "/", { cookie })).toMatchObject({ status: 200, text: "build a\n" });
    expect((await get("pr-1.priv.test", "/?edgeplane_bypass=bp_wrong")).status).toBe(403);
  });

  it("leaves staging public, the ACME path reachable, and protects a preview's status page", async () => {
    expect(await get("staging.priv.test")).toMatchObject({ status: 200, text: "build a\n" });
    // ACME HTTP-01 answers are never behind the password (404 here: no challenge pending)
    expect((await get("pr-1.priv.test", "/.well-known/acme-challenge/token-x")).status).toBe(404);
    // a preview without a ready environment: its status page is protected too
    expect((await get("pr-77.priv.test")).status).toBe(401);
    expect((await get("pr-77.priv.test", "/", basic("reviewer", password))).status).toBe(404);
  });

  it("changes protection within seconds, never opening the host meanwhile, under load", async () => {
    const next = `pw2-${randomBytes(8).toString("hex")}`;
    const withoutCredentials: number[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop)
        withoutCredentials.push((await get("pr-1.priv.test").catch(() => ({ status: 0 }))).status);
    })();
    const res = await system.api("PATCH", "/v1/projects/priv", {
      body: { protection: { mode: "basic", username: "reviewer", password: next, scope: "all" } },
    });
    setTimeout(() => {
      stop = true; // whatever happens below, the load ends
    }, 20_000).unref();
    expect(res.status).toBe(200);
    expect(
      await until(
        async () => (await get("pr-1.priv.test", "/", basic("reviewer", next))).status === 200,
        5000,
      ),
    ).toBe(true);
    expect((await get("pr-1.priv.test", "/", basic("reviewer", password))).status).toBe(401);
    // scope all: staging is protected now too
    expect(await until(async () => (await get("staging.priv.test")).status === 401, 5000)).toBe(true);
    stop = true;
    await load;
    expect(withoutCredentials.length).toBeGreaterThan(0);
    expect(withoutCredentials.filter((s) => s !== 401)).toEqual([]);
    // off: public again, without a restart
    await system.api("PATCH", "/v1/projects/priv", { body: { protection: { mode: "off" } } });
    expect(await until(async () => (await get("pr-1.priv.test")).status === 200, 5000)).toBe(true);
  });

  it("refuses a weak or malformed protection with 400, changing nothing", async () => {
    for (const protection of [
      { mode: "basic", username: "reviewer", password: "short" },
      { mode: "basic", username: "a:b", password: "long enough password" },
      { mode: "sometimes" },
    ]) {
      const res = await system.api<{ error: { code: string } }>("PATCH", "/v1/projects/priv", {
        body: { protection },
      });
      expect(res.status).toBe(400);
    }
    const bad = await system.api("PATCH", "/v1/projects/nap", { body: { sleepAfterSeconds: 5 } });
    expect(bad.status).toBe(400);
    expect(
      (await system.api<{ sleepAfterSeconds: number }>("GET", "/v1/projects/nap")).body.sleepAfterSeconds,
    ).toBe(10);
  });

  it("puts an idle preview to sleep, and a plain request wakes it and gets its answer", async () => {
    await deploy("nap", "pr-5", images.a ?? "");
    expect((await get("pr-5.nap.test")).status).toBe(200);
    expect(await asleep("nap", "pr-5")).toBe(true);
    const env = (await environment("nap", "pr-5")).body;
    expect(env.sleepingSince).not.toBeNull();
    // its container is stopped, not removed
    const [container] = await system.containers(env.id);
    expect(container).toBeDefined();
    expect(
      await until(
        async () => !(await docker.getContainer(container?.Id ?? "").inspect()).State.Running,
        20_000,
      ),
    ).toBe(true);
    // curl, say: held until the environment serves again, then answered by it
    expect(await get("pr-5.nap.test")).toMatchObject({ status: 200, text: "build a\n" });
    expect((await environment("nap", "pr-5")).body.status).toBe("ready");
    expect((await docker.getContainer(container?.Id ?? "").inspect()).State.Running).toBe(true);
  });

  it("shows a browser the waking page first, then the preview", async () => {
    expect(await asleep("nap", "pr-5")).toBe(true);
    const page = await get("pr-5.nap.test", "/", { accept: "text/html,application/xhtml+xml" });
    expect(page.status).toBe(503);
    expect(page.headers["retry-after"]).toBe("2");
    expect(page.text).toContain('<meta http-equiv="refresh" content="2">');
    expect(page.text).toContain("Waking up pr-5");
    expect(
      await until(
        async () => (await get("pr-5.nap.test", "/", { accept: "text/html" })).text === "build a\n",
        30_000,
      ),
    ).toBe(true);
  });

  it("a redeploy of a sleeping preview leaves it awake and serving the new image", async () => {
    expect(await asleep("nap", "pr-5")).toBe(true);
    await deploy("nap", "pr-5", images.b ?? "");
    expect(await get("pr-5.nap.test")).toMatchObject({ status: 200, text: "build b\n" });
    expect((await environment("nap", "pr-5")).body.status).toBe("ready");
  });

  it("tears down a sleeping preview whose pull request closes", async () => {
    expect(await asleep("nap", "pr-5")).toBe(true);
    const id = (await environment("nap", "pr-5")).body.id;
    const payload = pullRequestPayload("closed", {
      repository,
      number: 5,
      sha: "f".repeat(40),
      updatedAt: new Date(),
    });
    const delivery = await signedDelivery(webhookSecret, "pull_request", payload, randomUUID());
    const res = await system.post("/webhooks/github", delivery.body, delivery.headers);
    expect(res.status).toBe(202);
    const gone = await system.waitForEnvironment("nap", "pr-5", (e) => e.status === "destroyed", 60_000);
    expect(gone.status).toBe("destroyed");
    expect(await system.containers(id)).toEqual([]);
  });
});
