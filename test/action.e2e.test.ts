import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PRIMARY_REGISTRY, publishTestImage } from "./support/images.ts";
import { runProgram } from "./support/run.ts";
import { type Environment, TestSystem } from "./support/system.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ACTION = join(ROOT, "action/index.mjs");
const PHASE_LINE = /^(queued|staging|starting|routing|ready|failed|superseded) \(\+\d+\.\ds\)/;

// The GitHub Action's entry point, run as the Actions runner runs it (`node action/index.mjs` with
// INPUT_* variables and a GITHUB_OUTPUT file), against a live edgeplane.
describe("GitHub Action: action/index.mjs against a live edgeplane", () => {
  const system = new TestSystem();
  const repo = `acme/action-${system.id}`;
  let good = "";
  let broken = "";
  let ciToken = "";
  let outputDir = "";

  beforeAll(async () => {
    [good, broken] = await Promise.all([
      publishTestImage(repo, "sha-1", { message: "action v1" }),
      // exits at once: the health check fails and the deployment fails for good
      publishTestImage(repo, "broken", { cmd: ["/bin/busybox", "false"] }),
    ]);
    outputDir = await mkdtemp(join(tmpdir(), "edgeplane-action-"));
    await system.start();
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "web", domain: "action.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
    // what CI holds: a token that may deploy to `web` (and read it, to follow its deployments)
    const token = await system.api("POST", "/v1/tokens", {
      body: { name: "ci-action", projects: ["web"], scopes: ["deploy", "read"] },
    });
    expect(token.status).toBe(201);
    ciToken = token.body.token;
  });
  afterAll(async () => {
    await system.stop();
    if (outputDir) await rm(outputDir, { recursive: true, force: true });
  });

  let runs = 0;
  /** Runs the action with these inputs (`undefined`: not given); resolves with its log and outputs. */
  async function action(inputs: Record<string, string | undefined>) {
    const output = join(outputDir, `output-${++runs}`);
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", GITHUB_OUTPUT: output };
    for (const [name, value] of Object.entries(inputs)) {
      // as the runner names them: INPUT_ and the name upper-cased, spaces as `_` (hyphens stay)
      if (value !== undefined) env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
    }
    const run = await runProgram(process.execPath, [ACTION], { cwd: ROOT, env, timeoutMs: 150_000 });
    const outputs = await readFile(output, "utf8").catch(() => "");
    return { ...run, outputs, lines: run.stdout.split("\n").filter(Boolean) };
  }
  const inputs = (overrides: Record<string, string | undefined> = {}) => ({
    url: system.apiUrl,
    token: ciToken,
    project: "web",
    environment: "pr-7",
    image: good,
    ...overrides,
  });
  /** Each environment of `web` with the generation of its latest deployment request. */
  const environments = async () =>
    (
      await system.api<{ environments: Environment[] }>("GET", "/v1/projects/web/environments")
    ).body.environments.map((e) => `${e.name}@${e.generation}`);

  it("deploys, prints each phase in order, sets the url output, and never shows the token", async () => {
    const run = await action(inputs({ wait: "true", "timeout-seconds": "120" }));
    expect(run.code, run.stdout + run.stderr).toBe(0);

    const url = `http://pr-7.action.test:${system.gatewayPort}`;
    expect(run.outputs).toMatch(/^deployment-id=dep_\S+\n/m);
    expect(run.outputs).toContain(`url=${url}\n`);
    expect(run.outputs.match(/^url=/gm)).toHaveLength(1);

    const phases = run.lines.filter((l) => PHASE_LINE.test(l)).map((l) => l.split(" ")[0]);
    expect(phases).toEqual(["queued", "staging", "starting", "routing", "ready"]);
    expect(run.lines.at(-1)).toBe(`ready at ${url}`);
    expect(run.stdout).not.toContain("::error::");

    // the token is handed to the runner's masking first, and appears nowhere else
    expect(run.lines[0]).toBe(`::add-mask::${ciToken}`);
    expect(run.lines.filter((l) => l.includes(ciToken))).toEqual([`::add-mask::${ciToken}`]);
    expect(run.stderr).not.toContain(ciToken);
    expect(run.outputs).not.toContain(ciToken);

    expect(await system.viaGateway("pr-7.action.test", "/")).toEqual({ status: 200, text: "action v1\n" });
  });

  it("fails the job on a failed deployment, saying why", async () => {
    const run = await action(inputs({ environment: "pr-8", image: broken }));
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^::error::deployment failed: \S.*/m);
    expect(run.lines.filter((l) => PHASE_LINE.test(l)).at(-1)).toMatch(/^failed /);
    expect(run.outputs).not.toMatch(/^url=/m);
    expect(run.stdout.split("\n").filter((l) => l.includes(ciToken))).toEqual([`::add-mask::${ciToken}`]);
    // the container's output stays in the authenticated API: a public repository's log is public
    expect(run.stdout).not.toContain("health check:");
    expect(run.stdout).toContain(`GET ${system.apiUrl}/v1/deployments/`);
  });

  it("fails the job when the deployment does not finish in time, saying where it stands", async () => {
    const started = Date.now();
    const run = await action(
      inputs({
        environment: "pr-11",
        image: `${PRIMARY_REGISTRY}/${repo}:never-pushed`,
        "timeout-seconds": "3",
      }),
    );
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.lines).toContain("  waiting for image");
    expect(run.stdout).toMatch(
      /^::error::deployment dep_\S+ did not finish within 3s \(last seen: staging, waiting for image\)/m,
    );
    expect(run.outputs).not.toMatch(/^url=/m);
  });

  it("with wait false, sets the url as soon as the deployment is accepted", async () => {
    const run = await action(inputs({ environment: "pr-9", wait: "false" }));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toContain(`url=http://pr-9.action.test:${system.gatewayPort}\n`);
    expect(run.lines.filter((l) => PHASE_LINE.test(l))).toEqual([]);
    // it goes on in edgeplane all the same
    const env = await system.waitForEnvironment("web", "pr-9", (e) => e.status === "ready");
    expect(env.image).toBe(good);
  });

  it("fails naming a missing or bad input, and deploys nothing", async () => {
    const before = await environments();
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ environment: undefined }, "::error::input required and not supplied: environment"],
      [{ token: "" }, "::error::input required and not supplied: token"],
      [{ url: undefined }, "::error::input required and not supplied: url"],
      [{ environment: "pr-10", image: undefined }, "::error::input required and not supplied: image"],
      [{ environment: "pr-10", wait: "maybe" }, "::error::input wait must be true or false, not 'maybe'"],
      [{ environment: "pr-10", "timeout-seconds": "soon" }, "::error::input timeout-seconds must be"],
      [
        { environment: "pr-10", image: undefined, images: "web ghcr.io/a/b:1" },
        "::error::input images: expected",
      ],
    ];
    for (const [overrides, message] of cases) {
      const run = await action(inputs(overrides));
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toContain(message);
      expect(run.outputs).toBe("");
    }
    expect(await environments()).toEqual(before);
  });

  it("fails with the API's own message on a refused request", async () => {
    const before = await environments();
    const bad = await action(inputs({ environment: "PR_10" }));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^::error::.*environment.*\(HTTP 400 bad_request\)$/m);

    const wrongToken = await action(
      inputs({ environment: "pr-10", token: "ept_not-a-token-of-this-system" }),
    );
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stdout).toMatch(/^::error::.*\(HTTP 401 unauthorized\)$/m);

    const otherProject = await action(inputs({ project: "shop", environment: "pr-10" }));
    expect(otherProject.code).toBe(1);
    expect(otherProject.stdout).toMatch(/^::error::.*\(HTTP 404 not_found\)$/m);
    expect(await environments()).toEqual(before);
  });
});

// The example workflows call the action with inputs it declares, and give it every required one.
describe("GitHub Action: action.yml and the example workflows", () => {
  it("declares a node20 action whose entry point is this file, and the examples match its inputs", async () => {
    const action = parse(await readFile(join(ROOT, "action.yml"), "utf8"));
    expect(action.runs).toEqual({ using: "node20", main: "action/index.mjs" });
    expect(Object.keys(action.outputs)).toContain("url");
    const inputs = action.inputs as Record<string, { required?: boolean; default?: string }>;
    expect(inputs.wait?.default).toBe("true");
    expect(inputs["timeout-seconds"]?.default).toBe("900");
    const required = Object.entries(inputs)
      .filter(([, i]) => i.required)
      .map(([name]) => name);
    expect(required.sort()).toEqual(["environment", "project", "token", "url"]);

    for (const file of ["preview.yml", "fixed.yml"]) {
      const workflow = parse(await readFile(join(ROOT, "examples/github", file), "utf8"));
      const steps = Object.values(
        workflow.jobs as Record<string, { steps?: Array<{ uses?: string; with?: object }> }>,
      ).flatMap((job) => job.steps ?? []);
      const ours = steps.filter((s) => s.uses === "your-org/edgeplane@v1");
      expect(ours, file).toHaveLength(1);
      const given = Object.keys(ours[0]?.with ?? {});
      for (const name of given) expect(Object.keys(inputs), `${file}: ${name}`).toContain(name);
      for (const name of required) expect(given, `${file}: ${name}`).toContain(name);
      expect(JSON.stringify(workflow)).toContain("secrets.EDGEPLANE_TOKEN");
    }
    const preview = await readFile(join(ROOT, "examples/github/preview.yml"), "utf8");
    expect(preview).toMatch(/environment: pr-\$\{\{ github\.event\.number \}\}$/m);
    expect(preview).toMatch(/curl .*-X DELETE/s);
  });
});
