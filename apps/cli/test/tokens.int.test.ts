import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDb } from "@edgeplane/db";
import { createLogger } from "@edgeplane/log";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/src/app.ts";
import { ApiHarness, URLS } from "../../api/test/support.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

// `edgeplane tokens` as a user runs it: a real CLI process against a real API (its own database),
// authenticated by EDGEPLANE_TOKEN or by the admin token in the state dir.
describe("edgeplane tokens", () => {
  const h = new ApiHarness();
  let database: ReturnType<typeof createDb>;
  let server: ReturnType<typeof serve>;
  let apiUrl = "";
  let stateDir = "";

  beforeAll(async () => {
    await h.start();
    database = createDb(h.databaseUrl, { max: 2 });
    const app = createApp({
      services: { db: database.db, producer: h.producer, urls: URLS },
      adminToken: h.adminToken,
      log: createLogger("cli-test", "silent"),
      bodyLimitBytes: 4096,
      checkReady: async () => {},
    });
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise((resolve) => server.once("listening", resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stateDir = await mkdtemp(join(tmpdir(), "edgeplane-cli-"));
    await writeFile(join(stateDir, "admin-token"), `${h.adminToken}\n`, { mode: 0o600 });
    expect(
      (await h.call("POST", "/v1/projects", { json: { name: "web", domain: "preview.test", port: 8080 } }))
        .status,
    ).toBe(201);
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await database?.close();
    await h.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  function cli(args: string[], env: Record<string, string> = {}) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", MAIN, ...args],
        {
          env: {
            PATH: process.env.PATH ?? "",
            EDGEPLANE_API_URL: apiUrl,
            EDGEPLANE_STATE_DIR: stateDir,
            ...env,
          },
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it("creates a token with the admin token from the state dir: printed once, usable, stored hashed", async () => {
    const created = await cli([
      "tokens",
      "create",
      "ci-web",
      "--project",
      "web",
      "--scope",
      "deploy",
      "--scope",
      "read",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^ept_[A-Za-z0-9_-]+$/);
    expect(created.stderr).toMatch(
      /token ci-web \(tok_[0-9a-f]+\) created with scopes deploy, read for web; it is shown only this once/,
    );
    expect((await h.call("GET", "/v1/projects/web/environments", { token })).status).toBe(200);

    const listed = await cli(["tokens", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+NAME\s+SCOPES\s+PROJECTS\s+CREATED\s+REVOKED$/m);
    expect(listed.stdout).toMatch(/tok_[0-9a-f]+\s+ci-web\s+deploy,read\s+web\s+\S+\s+-/);
    expect(listed.stdout).not.toContain(token);
  });

  it("revokes a token with EDGEPLANE_TOKEN: refused by the API from then on", async () => {
    const created = await cli(["tokens", "create", "short-lived", "--project", "web"]);
    const token = created.stdout.trim();
    const id = (await h.call("GET", "/v1/tokens")).body.tokens.find(
      (t: { name: string }) => t.name === "short-lived",
    ).id;
    const revoked = await cli(["tokens", "revoke", id], { EDGEPLANE_TOKEN: h.adminToken });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked ${id} \\(short-lived\\) at \\d{4}-`));
    expect((await h.call("GET", "/v1/projects/web/environments", { token })).status).toBe(401);
    expect((await cli(["tokens", "list"])).stdout).toMatch(/short-lived\s+deploy,read\s+web\s+\S+\s+\d{4}-/);
  });

  it("says what went wrong and exits non-zero", async () => {
    const forbidden = await cli(["tokens", "list"], { EDGEPLANE_TOKEN: "ept_not-a-real-token" });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(
      /^edgeplane: API answered 401 for \/v1\/tokens: invalid or revoked token/,
    );

    const duplicate = await cli(["tokens", "create", "ci-web"]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/API answered 409 .*already exists/);

    const unknownProject = await cli(["tokens", "create", "x", "--project", "nope"]);
    expect(unknownProject.code).toBe(1);
    expect(unknownProject.stderr).toMatch(/API answered 400 .*unknown projects: nope/);

    const missing = await cli(["tokens", "revoke", "tok_00"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/API answered 404/);

    const usage = await cli(["tokens", "create"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe("edgeplane: missing required argument 'name'\n(add --help for usage)\n");
    const help = await cli(["tokens", "create", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: edgeplane tokens create \[options\] <name>\n/);

    const noToken = await cli(["tokens", "list"], { EDGEPLANE_STATE_DIR: join(stateDir, "nowhere") });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/no token: set EDGEPLANE_TOKEN/);

    const down = await cli(["tokens", "list"], { EDGEPLANE_API_URL: "http://127.0.0.1:1" });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:1/);
  });
});
