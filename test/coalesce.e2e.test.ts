import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

const BURST = 1000;
const CONCURRENCY = 25;

// A burst of deploys to one environment (a CI matrix gone wild, a retry storm): the latest intent
// wins, and the work of every superseded one is dropped before it starts a container.
describe("a burst of deploys to one environment", () => {
  const system = new TestSystem();
  const repo = `acme/burst-${system.id}`;
  const images: string[] = [];

  beforeAll(async () => {
    for (const tag of ["a", "b"]) images.push(await publishTestImage(repo, tag, { message: `burst ${tag}` }));
    await system.start({ EDGEPLANE_RATE_LIMIT_DEPLOYS: "0" });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "burst", domain: "burst.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await system.stop();
  });

  it(`ends ${BURST} deploys with the latest image running, after a handful of container starts`, async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    let sent = 0;
    const accepted: string[] = [];
    const deploy = async (image: string | undefined) => {
      const res = await system.api<{ id: string }>("POST", "/v1/deployments", {
        body: { project: "burst", environment: "pr-1", image },
      });
      expect(res.status).toBe(202);
      accepted.push(res.body.id);
    };
    // all but the last at once, image a; then the last, image b: the latest intent
    const sender = async () => {
      while (sent < BURST - 1) {
        sent++;
        await deploy(images[0]);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, sender));
    await deploy(images[1]);
    expect(accepted).toHaveLength(BURST);

    const env = await system.waitForEnvironment(
      "burst",
      "pr-1",
      (e) => e.status === "ready" && e.image === images[1],
      120_000,
    );
    expect(env.image).toBe(images[1]);
    expect(await system.viaGateway("pr-1.burst.test")).toEqual({ status: 200, text: "burst b\n" });

    // how many containers the burst started for the environment
    const stream = await docker.getEvents({
      since,
      until: Math.floor(Date.now() / 1000) + 1,
      filters: { type: ["container"], event: ["start"], label: [`edgeplane.environment=${env.id}`] },
    });
    const text = await new Promise<string>((resolve, reject) => {
      let buffer = "";
      stream.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
      });
      stream.on("end", () => resolve(buffer));
      stream.on("error", reject);
    });
    const starts = text.split("\n").filter((line) => line.trim() !== "").length;
    expect(starts).toBeGreaterThanOrEqual(1);
    expect(starts).toBeLessThanOrEqual(5);
    // and it runs exactly one container
    expect((await system.containers(env.id)).filter((c) => c.State === "running")).toHaveLength(1);
  });
});
