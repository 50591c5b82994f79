import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTestImage } from "./support/images.ts";
import { freePort } from "./support/ports.ts";
import { type Deployment, type Environment, TestSystem } from "./support/system.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PHASE_LINE = /^(queued|staging|starting|routing|ready|failed|superseded) \+(\d+\.\d)s(?: {2}.*)?$/;

/** The phases of plain progress lines, a phase noted twice (a message within it) counted once. */
function phasesOf(lines: string[]): string[] {
  const phases = lines.map((line) => PHASE_LINE.exec(line)?.[1] ?? `not a phase line: ${line}`);
  return phases.filter((phase, i) => phase !== phases[i - 1]);
}

// The CLI as a user runs it from a shell, against a whole edgeplane: deploy follows the deployment
// live to its URL (or says why it failed and what to do next), and status, ls, logs, open, destroy
// and projects show what the API knows. Output is not a terminal here: plain lines, no spinner.
describe("edgeplane CLI", () => {
  const system = new TestSystem();
  const repo = `acme/cli-${system.id}`;
  const images = { v1: "", failing: "", chatty: "" };
  const url = (env: string) => `http://${env}.cli.test:${system.gatewayPort}`;

  beforeAll(async () => {
    [images.v1, images.failing, images.chatty] = await Promise.all([
      publishTestImage(repo, "v1", { message: "hello from the cli" }),
      publishTestImage(repo, "failing", { cmd: ["/bin/busybox", "false"] }),
      // says something at boot, then logs every request it serves (busybox httpd -vv)
      publishTestImage(repo, "chatty", {
        message: "chatty",
        cmd: [
          "/bin/sh",
          "-c",
          'echo "booting chatty"; echo ok > /www/healthz; echo "$APP_MESSAGE" > /www/index.html; exec httpd -f -vv -p "$PORT" -h /www',
        ],
      }),
    ]);
    await system.start({ EDGEPLANE_HEALTH_TIMEOUT_MS: "8000" });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "web", domain: "cli.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
  });

  afterAll(async () => {
    await system.stop();
  });

  it("deploy shows each phase with its time, ends with the URL and exit 0, and the URL answers", async () => {
    const run = await system.cli(["deploy", "--project", "web", "--env", "pr-1", "--image", images.v1]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.at(-1)).toBe(url("pr-1"));
    const progress = lines.slice(0, -1);
    expect(phasesOf(progress)).toEqual(["queued", "staging", "starting", "routing", "ready"]);
    expect(progress[0]).toBe("queued +0.0s");
    const times = progress.map((line) => Number(PHASE_LINE.exec(line)?.[2]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await system.viaGateway("pr-1.cli.test")).toEqual({ status: 200, text: "hello from the cli\n" });
  });

  it("deploy --json prints one JSON object per event, then the deployment", async () => {
    const run = await system.cli(["deploy", "-p", "web", "-e", "pr-2", "-i", images.v1, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const objects = run.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    const final = objects.at(-1);
    expect(final).toMatchObject({ project: "web", environment: "pr-2", status: "ready", url: url("pr-2") });
    const events = objects.slice(0, -1);
    expect(events[0]).toMatchObject({ event: "phase", phase: "queued", message: null, elapsed: 0 });
    expect(events.at(-1)).toMatchObject({ event: "phase", phase: "ready", status: "ready" });
    const ids = events.map((e) => Number(e.id));
    expect(ids.every((id) => id > 0)).toBe(true);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const detail = await system.api<Deployment>("GET", `/v1/deployments/${final.id}`);
    expect(events.map((e) => e.phase)).toEqual(detail.body.events.map((e) => e.phase));
  });

  it("deploy --no-wait prints the id and URL at once", async () => {
    const seen: { firstOutputAt?: number } = {};
    const run = await system.cli(
      ["deploy", "--project", "web", "--env", "pr-3", "--image", images.v1, "--no-wait"],
      {},
      seen,
    );
    expect(run.code, run.stderr).toBe(0);
    const match = /^(dep_[0-9a-f]{20}) (\S+)\n$/.exec(run.stdout);
    expect(match?.[2]).toBe(url("pr-3"));
    const id = match?.[1] ?? "";
    expect(run.stderr).toContain(`edgeplane status ${id}`);
    const right = await system.api<Deployment>("GET", `/v1/deployments/${id}`);
    expect(right.status).toBe(200);
    expect(right.body.environment).toBe("pr-3");
    const done = await system.waitForDeployment(id);
    expect(done.status).toBe("ready");
    // it printed them before the deployment was ready (the server's clock is this machine's)
    expect(Date.parse(done.phases.ready ?? "")).toBeGreaterThan(
      seen.firstOutputAt ?? Number.POSITIVE_INFINITY,
    );
  });

  it("a failing image: exit 1 with the reason and what to do next", async () => {
    const run = await system.cli(["deploy", "--project", "web", "--env", "pr-4", "--image", images.failing]);
    expect(run.code).toBe(1);
    const env = await system.api<Environment>("GET", "/v1/projects/web/environments/pr-4");
    const deployment = await system.api<Deployment>("GET", `/v1/deployments/${env.body.deploymentId}`);
    expect(deployment.body.status).toBe("failed");
    // it exits at once and Docker restarts it: the health check sees it dead, or never answering
    const reason =
      /^the container (exited before passing its health check|did not become healthy within 8s: nothing answered its health check \/healthz)/;
    expect(deployment.body.error).toMatch(reason);
    expect(run.stderr).toContain(`edgeplane: deployment failed: ${deployment.body.error}\n`);
    expect(run.stderr).toContain(`edgeplane status ${deployment.body.id}`);
    expect(run.stderr).toContain("edgeplane logs pr-4 --project web");
    const lines = run.stdout.trimEnd().split("\n");
    expect(phasesOf(lines).at(-1)).toBe("failed");
    expect(run.stdout).not.toContain(url("pr-4"));
  });

  it("deploy gives up after --timeout, saying the deployment goes on", async () => {
    const missing = `127.0.0.1:5001/${repo}:never-pushed`;
    const run = await system.cli(["deploy", "-p", "web", "-e", "pr-5", "-i", missing, "--timeout", "2"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^edgeplane: deployment dep_[0-9a-f]{20} did not end within 2s \(it is staging\); it goes on\n/,
    );
    expect(run.stderr).toContain("--timeout SECONDS waits longer");
  });

  it("refuses bad input with a message, creating nothing", async () => {
    const noImage = await system.cli(["deploy", "--project", "web", "--env", "pr-6"]);
    expect(noImage.code).toBe(2);
    expect(noImage.stderr).toContain("deploy needs --image REF");
    const noEnv = await system.cli(["deploy", "--project", "web", "--image", images.v1]);
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toContain("required option '-e, --env <name>' not specified");
    const badImages = await system.cli(["deploy", "-p", "web", "-e", "pr-6", "--images", "web"]);
    expect(badImages.code).toBe(2);
    expect(badImages.stderr).toContain("--images takes SERVICE=REF, got 'web'");
    expect((await system.api("GET", "/v1/projects/web/environments/pr-6")).status).toBe(404);

    const unknown = await system.cli(["deploy", "--project", "nope", "--env", "pr-6", "--image", images.v1]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("API answered 404 for /v1/deployments: project 'nope' not found");
    expect(unknown.stderr).toContain("edgeplane projects ls");
    const badName = await system.cli(["deploy", "--project", "web", "--env", "PR_6", "--image", images.v1]);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain("API answered 400");
    const environments = await system.api<{ environments: Environment[] }>(
      "GET",
      "/v1/projects/web/environments",
    );
    expect(environments.body.environments.map((e) => e.name)).not.toContain("pr-6");

    const badToken = await system.cli(["ls"], { EDGEPLANE_TOKEN: "ept_not-a-token-not-a-token" });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain("API answered 401");
    expect(badToken.stderr).toContain("set EDGEPLANE_TOKEN (or --token)");
    const down = await system.cli(["ls", "--api-url", `http://127.0.0.1:${await freePort()}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(
      "is edgeplane running? start it with `npm start`, or set EDGEPLANE_API_URL",
    );
    const badSetting = await system.cli(["ls"], { EDGEPLANE_API_URL: "not a url" });
    expect(badSetting.code).toBe(78);
    expect(badSetting.stderr).toContain("EDGEPLANE_API_URL");
    const unknownCommand = await system.cli(["deploi"]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("edgeplane: unknown command 'deploi'");
  });

  it("ls, status and open show what the API knows, as tables and as JSON", async () => {
    const ls = await system.cli(["ls", "--project", "web"]);
    expect(ls.code, ls.stderr).toBe(0);
    const [header, ...rows] = ls.stdout.trimEnd().split("\n");
    expect(header?.split(/\s+/)).toEqual(["PROJECT", "ENV", "STATUS", "URL", "IMAGE", "AGE"]);
    const row = rows.find((r) => r.split(/\s+/)[1] === "pr-1")?.split(/\s+/);
    expect(row?.slice(0, 5)).toEqual(["web", "pr-1", "ready", url("pr-1"), images.v1]);
    expect(row?.[5]).toMatch(/^\d+[smhd]$/);
    expect(rows.find((r) => r.split(/\s+/)[1] === "pr-4")?.split(/\s+/)[2]).toBe("failed");

    const everywhere = await system.cli(["ls", "--json"]);
    const listed = JSON.parse(everywhere.stdout) as Environment[];
    expect(listed.find((e) => e.name === "pr-1")).toMatchObject({
      project: "web",
      status: "ready",
      url: url("pr-1"),
    });

    const env = await system.cli(["status", "pr-1", "--project", "web"]);
    expect(env.code, env.stderr).toBe(0);
    const current = (await system.api<Environment>("GET", "/v1/projects/web/environments/pr-1")).body;
    expect(env.stdout.split("\n")[0]).toBe("web/pr-1  ready");
    expect(env.stdout).toContain(`url:         ${url("pr-1")}\n`);
    expect(env.stdout).toContain(`deployment:  ${current.deploymentId} ready\n`);
    expect(env.stdout).toContain(`digest:      ${current.digest}\n`);

    const dep = await system.cli(["status", current.deploymentId ?? ""]);
    expect(dep.code, dep.stderr).toBe(0);
    expect(dep.stdout.split("\n")[0]).toBe(`${current.deploymentId}  web/pr-1  ready`);
    expect(dep.stdout).toMatch(/events:\n {2}queued +\+0\.0s\n/);
    expect(dep.stdout).toMatch(/\n {2}ready +\+\d+\.\ds\n/);

    const failed = await system.cli(["status", "pr-4", "-p", "web"]);
    const failedEnv = await system.api<Environment>("GET", "/v1/projects/web/environments/pr-4");
    const failedDeployment = await system.api<Deployment>(
      "GET",
      `/v1/deployments/${failedEnv.body.deploymentId}`,
    );
    expect(failed.stdout).toContain(`deployment:  ${failedDeployment.body.id} failed: the container `);
    expect(failed.stdout).toContain(`failed: ${failedDeployment.body.error}\n`);

    const missing = await system.cli(["status", "pr-404", "--project", "web"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("environment 'pr-404' not found");
    expect(missing.stderr).toContain("edgeplane ls --project web");

    const open = await system.cli(["open", "pr-1", "--project", "web"]);
    expect(open).toEqual({ code: 0, stdout: `${url("pr-1")}\n`, stderr: "" });
  });

  it("projects ls and show", async () => {
    const ls = await system.cli(["projects", "ls"]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout.split("\n").map((l) => l.split(/\s+/))).toEqual([
      ["NAME", "DOMAIN", "PORT", "REPOSITORY", "SERVICES"],
      ["web", "cli.test", "8080", "-", "-"],
      [""],
    ]);
    const show = await system.cli(["projects", "show", "web"]);
    expect(show.stdout).toContain("web\n");
    expect(show.stdout).toContain("health check:      /healthz\n");
    const json = JSON.parse((await system.cli(["projects", "show", "web", "--json"])).stdout);
    expect(json).toMatchObject({ name: "web", domain: "cli.test", port: 8080 });
  });

  it("logs prints the container's output, and -f streams a line it writes after the command started", async () => {
    const deployed = await system.cli([
      "deploy",
      "--project",
      "web",
      "--env",
      "pr-7",
      "--image",
      images.chatty,
    ]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const logs = await system.cli(["logs", "pr-7", "--project", "web"]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout.split("\n")[0]).toBe("booting chatty");

    const marker = `/marker-${randomBytes(4).toString("hex")}`;
    const child = spawn(
      process.execPath,
      [
        "--enable-source-maps",
        join(ROOT, "apps/cli/dist/main.js"),
        "logs",
        "pr-7",
        "-p",
        "web",
        "-f",
        "--tail",
        "0",
      ],
      {
        cwd: ROOT,
        env: { ...process.env, EDGEPLANE_API_URL: system.apiUrl, EDGEPLANE_TOKEN: system.adminToken },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await sleep(1000); // the CLI has started
      expect(out).not.toContain(marker);
      // each request writes the line again: under load the CLI may open its stream after the first
      const deadline = Date.now() + 20_000;
      while (!out.includes(`url:${marker}\n`) && Date.now() < deadline) {
        expect((await system.viaGateway("pr-7.cli.test", marker)).status).toBe(404);
        await sleep(1000);
      }
      expect(out).toMatch(new RegExp(`\\]:\\d+: url:${marker}\\n`));
      expect(child.exitCode).toBeNull(); // still following
    } finally {
      child.kill("SIGINT");
      await exited;
    }

    const service = await system.cli(["logs", "pr-7", "--project", "web", "--service", "web"]);
    expect(service.code).toBe(1);
    expect(service.stderr).toContain("API answered 400");
    expect(service.stderr).toContain("runs one container");
    const badTail = await system.cli(["logs", "pr-7", "--project", "web", "--tail", "lots"]);
    expect(badTail.code).toBe(2);
  });

  it("destroy tears an environment down; logs of it then say there is no container", async () => {
    const run = await system.cli(["destroy", "pr-2", "--project", "web"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("web/pr-2 destroying\n");
    await system.waitForEnvironment("web", "pr-2", (e) => e.status === "destroyed");
    const ls = await system.cli(["ls", "--project", "web"]);
    expect(ls.stdout.split("\n").map((r) => r.split(/\s+/)[1])).not.toContain("pr-2");
    const logs = await system.cli(["logs", "pr-2", "--project", "web"]);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toContain("API answered 409");
    expect(logs.stderr).toContain("environment pr-2 has no running container");
    expect(logs.stderr).toContain("edgeplane status pr-2 --project web");
  });
});
