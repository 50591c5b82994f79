import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, follow, PRIMARY_REGISTRY } from "./support/images.ts";
import { type Deployment, type Environment, TestSystem } from "./support/system.ts";

/** The three-part app's image (PostgreSQL from Debian's packages, busybox for HTTP), built by the setup. */
const APP_IMAGE = process.env.EDGEPLANE_TEST_PGAPP_IMAGE ?? "edgeplane-test/pgapp:1";

/** Pushes a variant of the app image (with extra ENV) to the primary registry; returns its reference. */
async function publishApp(
  repository: string,
  tag: string,
  env: Record<string, string> = {},
): Promise<string> {
  const ref = `${PRIMARY_REGISTRY}/${repository}`;
  const container = await docker.createContainer({ Image: APP_IMAGE });
  try {
    await container.commit({
      repo: ref,
      tag,
      changes: Object.entries(env).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`),
    });
  } finally {
    await container.remove({ force: true });
  }
  await follow(
    await docker.getImage(`${ref}:${tag}`).push({ authconfig: { serveraddress: PRIMARY_REGISTRY } }),
  );
  return `${ref}:${tag}`;
}

const composeFile = (image: string) => `
services:
  web:
    image: ${image}
    command: ["web-run"]
    ports: ["8080"]
    environment:
      API_URL: http://api:8080
    depends_on: [api]
  api:
    image: ${image}
    command: ["api-run"]
    expose: ["8080"]
    environment:
      DB_HOST: db
    depends_on:
      db: { condition: service_healthy }
      seed: { condition: service_completed_successfully }
  seed:
    image: ${image}
    command: ["seed"]
    environment:
      DB_HOST: db
      SEED_ROWS: alpha,beta
    depends_on:
      db: { condition: service_healthy }
  db:
    image: ${image}
    command: ["pg-run"]
    volumes: ["pgdata:/var/lib/postgresql/data"]
    healthcheck:
      test: ["CMD", "pg-ready"]
      interval: 500ms
      timeout: 3s
      retries: 60
volumes:
  pgdata:
    x-edgeplane:
      seedFrom: staging
`;

type ServiceStatus = {
  name: string;
  image: string;
  digest: string | null;
  url: string | null;
  status: string;
};

// A real app of several services from a compose file, through HTTP only: a web front calling an API
// by its service name, the API reading a real PostgreSQL seeded by a one-shot service, a database
// per preview (a copy of staging's), redeploys that keep the data, and a teardown leaving nothing.
describe("compose environments: web → api → PostgreSQL per preview", () => {
  const system = new TestSystem();
  const repo = `acme/app-${system.id}`;
  let image = "";
  let webV2 = "";
  const page = (host: string, path = "/") => system.viaGateway(host, path);

  async function deploy(environment: string, body: Record<string, unknown> = {}) {
    const res = await system.api<Deployment>("POST", "/v1/deployments", {
      body: { project: "app", environment, ...body },
    });
    expect(res.status).toBe(202);
    const done = await system.waitForDeployment(res.body.id, undefined, 180_000);
    expect(done, JSON.stringify(done)).toMatchObject({ status: "ready" });
    return done;
  }

  async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await sleep(200);
    }
    return false;
  }

  beforeAll(async () => {
    image = await publishApp(repo, "1");
    webV2 = await publishApp(repo, "web-2", { WEB_MESSAGE: "web-v2" });
    await system.start({ EDGEPLANE_HEALTH_TIMEOUT_MS: "90000" });
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "app",
        domain: "app.test",
        port: 8080,
        healthcheckPath: "/healthz",
        compose: composeFile(image),
      },
    });
    expect(project.status, JSON.stringify(project.body)).toBe(201);
  }, 240_000);

  afterAll(async () => {
    await system.stop();
    for (const volume of (
      await docker.listVolumes({ filters: { label: [`edgeplane.instance=${system.instance}`] } })
    ).Volumes ?? [])
      await docker
        .getVolume(volume.Name)
        .remove()
        .catch(() => {});
  });

  it("shows the services the compose file describes", async () => {
    const res = await system.api<{
      compose: { primaryService: string; services: Array<Record<string, unknown>> };
    }>("GET", "/v1/projects/app");
    expect(res.body.compose.primaryService).toBe("web");
    expect(res.body.compose.services.map((s) => [s.name, s.port, s.oneShot])).toEqual([
      ["web", 8080, false],
      ["api", 8080, false],
      ["seed", null, true],
      ["db", null, false],
    ]);
  });

  it("runs staging: the web front shows the rows the one-shot seeded, read by the API from PostgreSQL", async () => {
    const done = await deploy("staging");
    expect(done.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await page("staging.app.test")).toEqual({ status: 200, text: "web web\nrows: alpha,beta\n" });
    // every service with a port has its own URL; the API answers at api--staging
    expect(await page("api--staging.app.test", "/cgi-bin/rows")).toEqual({
      status: 200,
      text: "alpha,beta\n",
    });
  });

  it("gives each preview a copy of staging's database, and previews hold different data", async () => {
    await deploy("pr-1", { env: { seed: { SEED_ROWS: "one" } } });
    await deploy("pr-2", { env: { seed: { SEED_ROWS: "two" } } });
    expect((await page("pr-1.app.test")).text).toBe("web web\nrows: alpha,beta,one\n");
    expect((await page("pr-2.app.test")).text).toBe("web web\nrows: alpha,beta,two\n");
    // staging's own data is untouched by either
    expect((await page("staging.app.test")).text).toBe("web web\nrows: alpha,beta\n");
  });

  it("tells every service its own and its siblings' URLs", async () => {
    const env = await page("pr-1.app.test", "/cgi-bin/env");
    expect(env.status).toBe(200);
    const port = system.gatewayPort;
    expect(env.text).toContain(`EDGEPLANE_URL=http://pr-1.app.test:${port}\n`);
    expect(env.text).toContain(`EDGEPLANE_URL_API=http://api--pr-1.app.test:${port}\n`);
    expect(env.text).toContain("EDGEPLANE_ENVIRONMENT=pr-1\n");
    expect(env.text).toContain("API_URL=http://api:8080\n");
  });

  it("lists every service of the environment with its status, digest and URL", async () => {
    const res = await system.api<Environment & { services: ServiceStatus[] }>(
      "GET",
      "/v1/projects/app/environments/pr-1",
    );
    const port = system.gatewayPort;
    expect(res.body.services.map((s) => [s.name, s.status, s.url])).toEqual([
      ["web", "serving", `http://pr-1.app.test:${port}`],
      ["api", "serving", `http://api--pr-1.app.test:${port}`],
      ["seed", "completed", null],
      ["db", "running", null],
    ]);
    for (const s of res.body.services) {
      expect(s.image).toBe(image);
      expect(s.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    }
  });

  it("redeploys web alone under traffic: zero failed requests, the database container and its data kept", async () => {
    const before = await system.containers();
    const dbBefore = before.find(
      (c) => c.Labels["edgeplane.service"] === "db" && c.Names[0]?.includes("-pr-1-"),
    );
    expect(dbBefore).toBeDefined();
    const seen: number[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) seen.push((await page("pr-1.app.test").catch(() => ({ status: 0 }))).status);
    })();
    const done = (await deploy("pr-1", { images: { web: webV2 } })) as Deployment & {
      services: ServiceStatus[];
    };
    expect(done.services.find((s) => s.name === "web")?.image).toBe(webV2);
    expect(done.services.find((s) => s.name === "db")?.image).toBe(image);
    expect(await until(async () => (await page("pr-1.app.test")).text.startsWith("web web-v2\n"))).toBe(true);
    stop = true;
    await load;
    expect(seen.filter((status) => status !== 200)).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    expect((await page("pr-1.app.test")).text).toBe("web web-v2\nrows: alpha,beta,one\n");
    const dbAfter = (await system.containers()).find(
      (c) => c.Labels["edgeplane.service"] === "db" && c.Names[0]?.includes("-pr-1-"),
    );
    expect(dbAfter?.Id).toBe(dbBefore?.Id);
  });

  it("tears a preview down to nothing: no container, network or volume left", async () => {
    const env = await system.api<Environment>("GET", "/v1/projects/app/environments/pr-2");
    const res = await system.api("DELETE", "/v1/projects/app/environments/pr-2");
    expect(res.status).toBe(202);
    await system.waitForEnvironment("app", "pr-2", (e) => e.status === "destroyed", 60_000);
    expect(await system.containers(env.body.id)).toEqual([]);
    const label = `edgeplane.environment=${env.body.id}`;
    expect(await docker.listNetworks({ filters: { label: [label] } })).toEqual([]);
    expect((await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []).toEqual([]);
    expect((await page("pr-2.app.test")).status).not.toBe(200);
    // the other preview is untouched
    expect((await page("pr-1.app.test")).text).toBe("web web-v2\nrows: alpha,beta,one\n");
  });

  it("refuses a compose file that would weaken isolation, naming the key and the service, changing nothing", async () => {
    const cases: Array<[string, string]> = [
      ["services:\n  web:\n    image: a/b:1\n    privileged: true\n", "services.web.privileged"],
      ["services:\n  web:\n    image: a/b:1\n    volumes: ['/etc:/host-etc']\n", "services.web.volumes"],
      ["services:\n  web:\n    build: .\n", "services.web.build"],
      ["services:\n  web:\n    image: a/b:1\n    network_mode: host\n", "services.web.network_mode"],
    ];
    for (const [compose, key] of cases) {
      for (const [method, path, body] of [
        ["POST", "/v1/projects", { name: "bad", domain: "bad.test", port: 8080, compose }],
        ["PATCH", "/v1/projects/app", { compose }],
      ] as const) {
        const res = await system.api<{ error: { code: string; message: string } }>(method, path, { body });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe("bad_request");
        expect(res.body.error.message).toContain(key);
      }
    }
    expect((await system.api("GET", "/v1/projects/bad")).status).toBe(404);
    const app = await system.api<{ compose: { services: unknown[] } }>("GET", "/v1/projects/app");
    expect(app.body.compose.services).toHaveLength(4);
  });

  it("refuses a deploy naming a service the file lacks, or an environment name with --", async () => {
    for (const body of [
      { project: "app", environment: "pr-9", images: { nope: image } },
      { project: "app", environment: "pr--9", image },
    ]) {
      const res = await system.api<{ error: { message: string } }>("POST", "/v1/deployments", { body });
      expect(res.status).toBe(400);
    }
    expect((await system.api("GET", "/v1/projects/app/environments/pr-9")).status).toBe(404);
  });

  it("caps the services' limits by the project's, naming the service", async () => {
    const heavy = `services:\n  web:\n    image: ${image}\n    ports: ["8080"]\n    deploy: { resources: { limits: { memory: 1g } } }\n`;
    const res = await system.api<{ error: { message: string } }>("POST", "/v1/projects", {
      body: { name: "heavy", domain: "heavy.test", port: 8080, memoryMb: 512, compose: heavy },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("services.web.deploy.resources.limits.memory");
    const many = `services:\n${["a", "b", "c"].map((n) => `  ${n}:\n    image: ${image}\n`).join("")}`;
    const sum = await system.api<{ error: { message: string } }>("POST", "/v1/projects", {
      body: {
        name: "many",
        domain: "many.test",
        port: 8080,
        memoryMb: 512,
        environmentMemoryMb: 1024,
        compose: many,
      },
    });
    expect(sum.status).toBe(400);
    expect(sum.body.error.message).toContain("environmentMemoryMb");
  });

  it("sets a compose file from the CLI, and says why it refuses one", async () => {
    const created = await system.api("POST", "/v1/projects", {
      body: { name: "cli", domain: "cli.test", port: 8080 },
    });
    expect(created.status).toBe(201);
    const dir = await mkdtemp(join(tmpdir(), "edgeplane-compose-"));
    try {
      await writeFile(join(dir, "docker-compose.yml"), composeFile(image));
      const ok = await system.cli(["projects", "set-compose", "cli", join(dir, "docker-compose.yml")]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain("cli: 4 services");
      const view = await system.api<{ compose: { primaryService: string } | null }>(
        "GET",
        "/v1/projects/cli",
      );
      expect(view.body.compose?.primaryService).toBe("web");

      await writeFile(
        join(dir, "bad.yml"),
        "services:\n  web:\n    image: a/b:1\n    cap_add: [SYS_ADMIN]\n",
      );
      const bad = await system.cli(["projects", "set-compose", "cli", join(dir, "bad.yml")]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain("services.web.cap_add");
      const missing = await system.cli(["projects", "set-compose", "cli", join(dir, "nope.yml")]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain("cannot read");
      // neither refusal changed the project
      const after = await system.api<{ compose: { services: unknown[] } | null }>("GET", "/v1/projects/cli");
      expect(after.body.compose?.services).toHaveLength(4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
