import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, PRIMARY_REGISTRY } from "./support/images.ts";
import { runProgram } from "./support/run.ts";
import { TestSystem } from "./support/system.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const EDGE_REGISTRY = `127.0.0.1:${process.env.EDGEPLANE_EDGE_REGISTRY_PORT ?? "5002"}`;
const SAMPLE_PAGE = "<h1>Hello from acme/web sha-1</h1>";

/** The commands of README.md's walkthrough: the first ```sh block under `### Walkthrough`. */
function walkthroughCommands(readme: string): string {
  const lines = readme.split("\n");
  const heading = lines.indexOf("### Walkthrough");
  if (heading < 0) throw new Error("README.md has no '### Walkthrough' heading");
  let open = -1;
  for (let i = heading + 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (open < 0 && /^#{1,6} /.test(line)) break; // the next section: no block under the heading
    if (open < 0 && line === "```sh") open = i;
    else if (open >= 0 && line === "```") return `${lines.slice(open + 1, i).join("\n")}\n`;
  }
  throw new Error("no ```sh block under '### Walkthrough' in README.md");
}

// README.md's walkthrough, copied as is: run verbatim by bash on a system started with the defaults
// of `npm start` (the edge registry in front of the primary), from a directory laid out as the
// repository's is for a user (`.edgeplane/admin-token`), it ends with the environment answering.
describe("README walkthrough, run verbatim", () => {
  const system = new TestSystem();
  let workdir = "";

  beforeAll(async () => {
    // the setup publishes the sample image (scripts/services.sh runs this; idempotent)
    const published = await runProgram("bash", [join(ROOT, "scripts/images/sample.sh")], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...pick("EDGEPLANE_PRIMARY_REGISTRY_PORT") },
    });
    expect(published.code, published.stderr).toBe(0);
    for (const registry of [PRIMARY_REGISTRY, EDGE_REGISTRY]) {
      const up = await fetch(`http://${registry}/v2/`).then(
        (r) => r.ok,
        () => false,
      );
      expect(up, `registry ${registry} (scripts/services.sh starts it)`).toBe(true);
    }
    // the defaults of `edgeplane up`, passed explicitly: TestSystem turns the edge off otherwise
    await system.start({ EDGEPLANE_EDGE_REGISTRY: EDGE_REGISTRY, EDGEPLANE_EDGE_UPSTREAM: PRIMARY_REGISTRY });
    workdir = await mkdtemp(join(tmpdir(), "edgeplane-readme-"));
    await mkdir(join(workdir, ".edgeplane"), { mode: 0o700 });
    await writeFile(join(workdir, ".edgeplane/admin-token"), `${system.adminToken}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await system.stop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
    // what the runtime pulled from the edge for this test (never forced: an image in use stays)
    for (const image of await docker.listImages()) {
      for (const ref of image.RepoDigests ?? []) {
        if (ref.startsWith(`${EDGE_REGISTRY}/acme/web@`))
          await docker
            .getImage(ref)
            .remove()
            .catch(() => {});
      }
    }
  });

  it("creates a project, deploys the sample image through the edge, and the environment answers", async () => {
    const commands = walkthroughCommands(await readFile(join(ROOT, "README.md"), "utf8"));
    const run = await runProgram("bash", ["-euo", "pipefail", "-c", commands], {
      cwd: workdir,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: workdir,
        // where this system listens; the walkthrough's defaults are npm start's (3000, 8080)
        EDGEPLANE_API_URL: system.apiUrl,
        EDGEPLANE_GATEWAY_PORT: String(system.gatewayPort),
      },
      timeoutMs: 120_000,
    });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain('"status":"ready"');
    // the last command printed the sample page
    expect(run.stdout.trimEnd().endsWith("</p>")).toBe(true);
    expect(run.stdout).toContain(SAMPLE_PAGE);

    // pinned by digest and run from the edge registry: the artifact path is the default path
    const env = await system.api("GET", "/v1/projects/web/environments/dev");
    expect(env.body).toMatchObject({ status: "ready", image: `${PRIMARY_REGISTRY}/acme/web:sha-1` });
    const containers = await system.containers(env.body.id);
    expect(containers.map((c) => c.Image)).toEqual([`${EDGE_REGISTRY}/acme/web@${env.body.digest}`]);
    expect(await system.viaGateway("dev.web.example.test")).toMatchObject({
      status: 200,
      text: expect.stringContaining(SAMPLE_PAGE),
    });
  });
});

function pick(...names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name] as string]])),
  );
}
