/**
 * Artifact path benchmark: what does staging cost when the image comes from far away, compared
 * with an image already staged? In one run, against one `edgeplane up` with its own primary and
 * edge registries (children of this process, data under the OS temp dir):
 *   - cold: the edge registry's cache is wiped and the image removed from Docker, so staging
 *     resolves the tag at the primary, warms the edge (primary → edge), and pulls from the edge
 *     (edge → runtime);
 *   - warm: the same image deployed again to a fresh environment: resolved at the primary, already
 *     on the runtime, nothing transferred;
 * alternating, so machine noise hits both alike. The image is the test image with several layers of
 * random data on top (random, so no layer is shared with anything already present).
 * Prints a table, asserts nothing.
 *   BENCH_ARTIFACT_RUNS     runs of each kind (default 5)
 *   BENCH_ARTIFACT_LAYERS   layers of random data (default 4)
 *   BENCH_ARTIFACT_LAYER_MB size of each (default 8)
 */

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { docker, follow } from "../test/support/images.ts";
import { LocalRegistry } from "../test/support/registry.ts";
import { TestSystem } from "../test/support/system.ts";
import { type DeploymentView, percentile, table } from "./support/stats.ts";

const RUNS = Math.max(1, Number(process.env.BENCH_ARTIFACT_RUNS ?? 5) || 5);
const LAYERS = Math.max(1, Number(process.env.BENCH_ARTIFACT_LAYERS ?? 4) || 4);
const LAYER_MB = Math.max(1, Number(process.env.BENCH_ARTIFACT_LAYER_MB ?? 8) || 8);
const BASE = process.env.EDGEPLANE_TEST_BASE_IMAGE ?? "edgeplane-test/httpd:base";
const TIMEOUT_MS = 120_000;

interface Sample {
  /** POST /v1/deployments → `ready`, as the client sees it. */
  total: number;
  /** queued → staging → starting: resolve at the primary, warm the edge, pull. */
  staging: number;
  /** starting → ready: container start, health check, gateway. */
  start: number;
}

/** The test image plus LAYERS layers of LAYER_MB random bytes each, pushed to `registry`; local copies removed. */
async function buildLayeredImage(
  registry: string,
  repository: string,
): Promise<{ ref: string; bytes: number }> {
  let image = BASE;
  const local: string[] = [];
  for (let i = 1; i <= LAYERS; i++) {
    const container = await docker.createContainer({
      Image: image,
      Cmd: [
        "/bin/busybox",
        "sh",
        "-c",
        `/bin/busybox head -c ${LAYER_MB * 1024 * 1024} /dev/urandom > /random-${i}.bin`,
      ],
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      if (StatusCode !== 0) throw new Error(`writing layer ${i} exited ${StatusCode}`);
      image = `${registry}/${repository}:layer-${i}`;
      await container.commit({
        repo: `${registry}/${repository}`,
        tag: i === LAYERS ? "v1" : `layer-${i}`,
        changes: ['CMD ["/bin/serve"]', 'ENV APP_MESSAGE="artifact bench"'],
      });
      if (i === LAYERS) image = `${registry}/${repository}:v1`;
      local.push(image);
    } finally {
      await container.remove({ force: true });
    }
  }
  const ref = `${registry}/${repository}:v1`;
  await follow(await docker.getImage(ref).push({ authconfig: { serveraddress: registry } }));
  const bytes = (await docker.getImage(ref).inspect()).Size;
  for (const tag of local.reverse()) await docker.getImage(tag).remove();
  return { ref, bytes };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(10);
  }
  throw new Error(`stopped waiting for ${what}`);
}

async function deployOnce(
  system: TestSystem,
  image: string,
  environment: string,
): Promise<{ sample: Sample; digest: string }> {
  const posted = performance.now();
  const res = await system.api<DeploymentView>("POST", "/v1/deployments", {
    body: { project: "bench", environment, image },
  });
  if (res.status !== 202) throw new Error(`deploy answered ${res.status}: ${JSON.stringify(res.body)}`);
  const done = await until(`deployment ${res.body.id}`, async () => {
    const d = (await system.api<DeploymentView>("GET", `/v1/deployments/${res.body.id}`)).body;
    return ["ready", "failed", "superseded"].includes(d.status) ? d : undefined;
  });
  const total = performance.now() - posted;
  if (done.status !== "ready" || !done.digest)
    throw new Error(`deployment ended ${done.status}: ${done.error}`);
  const at = (p: keyof DeploymentView["phases"]) => Date.parse(done.phases[p] ?? "");
  return {
    sample: { total, staging: at("starting") - at("queued"), start: at("ready") - at("starting") },
    digest: done.digest,
  };
}

async function destroy(system: TestSystem, environment: string): Promise<void> {
  const res = await system.api("DELETE", `/v1/projects/bench/environments/${environment}`);
  if (res.status !== 202) throw new Error(`destroy answered ${res.status}`);
  await until(`${environment} destroyed`, async () => {
    const env = (await system.api("GET", `/v1/projects/bench/environments/${environment}`)).body;
    return env.status === "destroyed" && (await system.containers(env.id)).length === 0 ? true : undefined;
  });
}

async function main(): Promise<void> {
  const primary = new LocalRegistry({ name: "bench-primary" });
  const edge = new LocalRegistry({ name: "bench-edge", remote: primary });
  const system = new TestSystem();
  const repository = `bench/artifact-${system.id}`;
  const cold: Sample[] = [];
  const warm: Sample[] = [];
  try {
    await primary.start();
    await edge.start();
    process.stdout.write(`building an image with ${LAYERS} layers of ${LAYER_MB} MiB of random data…\n`);
    const { ref, bytes } = await buildLayeredImage(primary.host, repository);
    await system.start({
      EDGEPLANE_EDGE_REGISTRY: edge.host,
      EDGEPLANE_EDGE_UPSTREAM: primary.host,
      EDGEPLANE_IMAGE_GC_GRACE_MS: "0", // the bench removes images itself
    });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "bench", domain: "bench.test", port: 8080, healthcheckPath: "/healthz" },
    });
    if (project.status !== 201) throw new Error(`project: ${project.status}`);

    for (let i = 0; i < RUNS; i++) {
      // cold: nothing of the image on the edge or the runtime
      await edge.wipe();
      const c = await deployOnce(system, ref, `cold-${i}`);
      cold.push(c.sample);
      // warm: staged already
      const w = await deployOnce(system, ref, `warm-${i}`);
      warm.push(w.sample);
      await destroy(system, `cold-${i}`);
      await destroy(system, `warm-${i}`);
      await docker.getImage(`${edge.host}/${repository}@${c.digest}`).remove();
      process.stdout.write(
        `run ${i + 1}/${RUNS}: cold ${c.sample.total.toFixed(0)} ms, warm ${w.sample.total.toFixed(0)} ms\n`,
      );
    }

    const row = (label: string, pick: (s: Sample) => number) => {
      const c = cold.map(pick);
      const w = warm.map(pick);
      return [
        label,
        percentile(c, 0.5),
        percentile(c, 0.95),
        percentile(w, 0.5),
        percentile(w, 0.95),
        percentile(c, 0.5) - percentile(w, 0.5),
      ];
    };
    process.stdout.write(
      `\nartifact path: cold (primary → edge → runtime) vs warm (already staged)\n` +
        `image: ${LAYERS} random layers, ${(bytes / 1024 / 1024).toFixed(1)} MiB; ${RUNS} deploys of each, alternating; ms\n\n` +
        `${table(
          ["", "cold p50", "cold p95", "warm p50", "warm p95", "cold - warm (p50)"],
          [
            row("POST → ready", (s) => s.total),
            row("staging (queued → starting)", (s) => s.staging),
            row("start (starting → ready)", (s) => s.start),
          ],
          0,
        )}\n`,
    );
  } finally {
    await system.stop();
    await edge.destroy();
    await primary.destroy();
    const ours = (r: string) => r.startsWith(`${primary.host}/`) || r.startsWith(`${edge.host}/`);
    for (const image of await docker.listImages()) {
      for (const r of [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter(ours)) {
        await docker
          .getImage(r)
          .remove()
          .catch(() => {});
      }
    }
  }
}

await main();
