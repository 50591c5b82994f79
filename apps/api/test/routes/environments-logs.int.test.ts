import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { DockerRuntime } from "@edgeplane/runtime";
import { serve } from "@hono/node-server";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

// GET /v1/projects/:project/environments/:environment/logs: a real container's output read over the
// Docker socket by the API's runtime (this file's own instance label), as a client reads it.
const SOCKET = process.env.DOCKER_SOCKET ?? "/var/run/docker.sock";
const BASE = process.env.EDGEPLANE_TEST_BASE_IMAGE ?? "edgeplane-test/httpd:base";
const INSTANCE = `logs-${randomBytes(4).toString("hex")}`;
const docker = new Docker({ socketPath: SOCKET });

const runtime = new DockerRuntime({ socketPath: SOCKET, instance: INSTANCE });
/** Per container id, the reads the API opened: whether the caller aborted it, and whether it ended. */
const reads = new Map<string, Array<{ signal: AbortSignal | undefined; ended: boolean }>>();
const fx = routeFixtures({
  containerLogs: {
    async logs(id, options) {
      const output = await runtime.logs(id, options);
      if (!output) return null;
      const read = { signal: options.signal, ended: false };
      reads.set(id, [...(reads.get(id) ?? []), read]);
      return (async function* () {
        try {
          yield* output;
        } finally {
          read.ended = true;
        }
      })();
    },
  },
});
const { h, ciWeb, readWeb, ciApi, deploy } = fx;
const containers: Docker.Container[] = [];

/** A container labelled as `instance`'s, running `script`; resolves once it has printed `ready`. */
async function run(script: string, instance = INSTANCE): Promise<Docker.Container> {
  const container = await docker.createContainer({
    name: `ep-${instance}-${randomBytes(4).toString("hex")}`,
    Image: BASE,
    Entrypoint: ["/bin/sh", "-c", script],
    Labels: { "edgeplane.managed": "true", "edgeplane.instance": instance },
    HostConfig: { NetworkMode: "none" },
  });
  containers.push(container);
  await container.start();
  const deadline = Date.now() + 10_000;
  while (!(await container.logs({ stdout: true, stderr: true })).toString().includes("ready")) {
    if (Date.now() > deadline) throw new Error("the test container printed nothing");
    await sleep(50);
  }
  return container;
}

/** Makes the container print a line on its stdout, as its own process would. */
async function say(container: Docker.Container, line: string): Promise<void> {
  const exec = await container.exec({ Cmd: ["/bin/sh", "-c", `echo '${line}' > /proc/1/fd/1`] });
  await exec.start({ Detach: true });
}

/** An environment of project `web` whose current container is `container` (as reconcile records it). */
async function environmentWith(name: string, container: Docker.Container | null) {
  await deploy(ciWeb.token, "web", name, `ghcr.io/acme/web:${name}`);
  await h.sql`update environments set observed_container_id = ${container?.id ?? null}, status = 'ready' where name = ${name}`;
}

/** Reads a streamed body until `until` holds for what arrived (or it ends); the text so far. */
function textReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  let ended = false;
  let reading: ReturnType<typeof reader.read> | null = null;
  return {
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    async until(done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (!done(text) && !ended) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`not there within ${timeoutMs} ms; got:\n${text}`);
        reading ??= reader.read();
        const chunk = await Promise.race([reading, sleep(left).then(() => "timeout" as const)]);
        if (chunk === "timeout") continue;
        reading = null;
        if (chunk.done) ended = true;
        else text += decoder.decode(chunk.value, { stream: true });
      }
      return text;
    },
    cancel: () => reader.cancel(),
  };
}

const logsOf = (environment: string, query = "", project = "web") =>
  `/v1/projects/${project}/environments/${environment}/logs${query}`;

beforeAll(async () => {
  const compose = [
    "services:",
    "  web:",
    "    image: ghcr.io/acme/web:1",
    '    ports: ["8080"]',
    "  db:",
    "    image: ghcr.io/acme/db:1",
    "",
  ].join("\n");
  const created = await h.call("POST", "/v1/projects", {
    json: { name: "shop", domain: "shop.test", port: 8080, compose },
  });
  expect(created.status, created.text).toBe(201);
});

afterAll(async () => {
  for (const container of containers) await container.remove({ force: true }).catch(() => {});
});

describe("GET /v1/projects/:project/environments/:environment/logs", () => {
  it("answers the last lines of the container's output, stdout and stderr, as plain text", async () => {
    const container = await run(
      "echo booting; sleep 0.1; echo 'a warning' >&2; sleep 0.1; echo ready; exec sleep 600",
    );
    await environmentWith("logs-1", container);
    const all = await h.call("GET", logsOf("logs-1"), { token: readWeb.token });
    expect(all.status, all.text).toBe(200);
    expect(all.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(all.text).toBe("booting\na warning\nready\n");
    const last = await h.call("GET", logsOf("logs-1", "?tail=1"), { token: ciWeb.token });
    expect(last.text).toBe("ready\n");
    expect((await h.call("GET", logsOf("logs-1", "?tail=0"))).text).toBe("");
  });

  it("with follow=1, streams a line the container prints after the request, and ends when it stops", async () => {
    const container = await run("echo ready; exec sleep 600");
    await environmentWith("logs-2", container);
    const res = await h.open(logsOf("logs-2", "?follow=1&tail=0"), { token: readWeb.token });
    expect(res.status).toBe(200);
    const body = textReader(res);
    await sleep(300);
    expect(body.text).toBe(""); // tail=0: nothing of before
    await say(container, "first line after the request");
    expect(await body.until((t) => t.includes("\n"))).toBe("first line after the request\n");
    await say(container, "second");
    expect(await body.until((t) => t.endsWith("second\n"))).toBe("first line after the request\nsecond\n");
    await container.kill();
    await body.until(() => false);
    expect(body.ended).toBe(true);
  });

  it("stops following when the client goes away", async () => {
    const container = await run("echo ready; exec sleep 600");
    await environmentWith("logs-3", container);
    const res = await h.open(logsOf("logs-3", "?follow=1"), { token: readWeb.token });
    const body = textReader(res);
    expect(await body.until((t) => t.includes("ready\n"))).toBe("ready\n");
    const [read] = reads.get(container.id) ?? [];
    expect(read?.signal?.aborted).toBe(false);
    expect(read?.ended).toBe(false);
    await body.cancel();
    // the API aborts its request to Docker, and its read of the log stream ends
    const deadline = Date.now() + 5000;
    while (!read?.ended && Date.now() < deadline) await sleep(50);
    expect(read?.signal?.aborted).toBe(true);
    expect(read?.ended).toBe(true);
  });

  it("over real HTTP too: a client that disconnects ends the API's read of the container's log", async () => {
    const container = await run("echo ready; exec sleep 600");
    await environmentWith("logs-8", container);
    const server = serve({ fetch: h.app.fetch, hostname: "127.0.0.1", port: 0 });
    try {
      await new Promise((resolve) => server.once("listening", resolve));
      const { port } = server.address() as AddressInfo;
      const client = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}${logsOf("logs-8", "?follow=1")}`, {
        headers: { authorization: `Bearer ${readWeb.token}` },
        signal: client.signal,
      });
      const body = textReader(res);
      expect(await body.until((t) => t.includes("ready\n"))).toBe("ready\n");
      const [read] = reads.get(container.id) ?? [];
      expect(read?.ended).toBe(false);
      client.abort();
      const deadline = Date.now() + 5000;
      while (!read?.ended && Date.now() < deadline) await sleep(50);
      expect(read?.signal?.aborted).toBe(true);
      expect(read?.ended).toBe(true);
    } finally {
      (server as Server).closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("prefixes each line with its service in a compose environment, and reads one service when asked", async () => {
    const web = await run("echo 'web listening'; echo ready; exec sleep 600");
    const db = await run("echo 'db starting' >&2; sleep 0.1; echo ready; exec sleep 600");
    await deploy(h.adminToken, "shop", "pr-1", "ghcr.io/acme/web:2");
    const observed = (id: string, port: number | null) => ({
      containerId: id,
      address: "10.0.0.2",
      port,
      configHash: "0",
      hostname: null,
      oneShot: false,
    });
    const services = { db: observed(db.id, null), web: observed(web.id, 8080) };
    await h.sql`update environments set status = 'ready', observed_services = ${JSON.stringify(services)}::jsonb where name = 'pr-1'`;
    const all = await h.call("GET", logsOf("pr-1", "", "shop"));
    expect(all.status, all.text).toBe(200);
    // every line of each service, in that service's order; the services in the file's order
    const lines = all.text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.filter((l) => l.startsWith("[web] "))).toEqual(["[web] web listening", "[web] ready"]);
    expect(lines.filter((l) => l.startsWith("[db] "))).toEqual(["[db] db starting", "[db] ready"]);
    expect(lines).toHaveLength(4);

    const one = await h.call("GET", logsOf("pr-1", "?service=db", "shop"));
    expect(one.text).toBe("[db] db starting\n[db] ready\n");
    const unknown = await h.call("GET", logsOf("pr-1", "?service=cache", "shop"));
    expectError(unknown, 400, "bad_request");
    expect(unknown.body.error.message).toBe("environment pr-1 has no service 'cache' (services: web, db)");
  });

  it("answers 409 when the environment has no container, or its container is gone", async () => {
    await environmentWith("logs-4", null);
    const none = await h.call("GET", logsOf("logs-4"), { token: readWeb.token });
    expectError(none, 409, "conflict");
    expect(none.body.error.message).toBe("environment logs-4 has no running container");

    const container = await run("echo ready; exec sleep 600");
    await environmentWith("logs-5", container);
    await container.remove({ force: true });
    const gone = await h.call("GET", logsOf("logs-5"), { token: readWeb.token });
    expectError(gone, 409, "conflict");
    expect(gone.body.error.message).toBe("environment logs-5 has no running container");
  });

  it("never reads a container that is not this instance's", async () => {
    const foreign = await run(
      "echo 'secret of another instance'; echo ready; exec sleep 600",
      `${INSTANCE}-other`,
    );
    await environmentWith("logs-6", foreign);
    const res = await h.call("GET", logsOf("logs-6"));
    expectError(res, 500, "internal");
    expect(res.text).not.toContain("secret of another instance");
  });

  it("refuses bad queries, unknown names, other projects' tokens and no token, with the one error body", async () => {
    const container = await run("echo ready; exec sleep 600");
    await environmentWith("logs-7", container);
    for (const query of ["?tail=10001", "?tail=-1", "?tail=x", "?follow=yes", "?service=Web"]) {
      expectError(await h.call("GET", logsOf("logs-7", query)), 400, "bad_request");
    }
    const single = await h.call("GET", logsOf("logs-7", "?service=web"));
    expectError(single, 400, "bad_request");
    expect(single.body.error.message).toContain("runs one container");
    expectError(await h.call("GET", logsOf("nope")), 404, "not_found");
    expectError(await h.call("GET", logsOf("logs-7", "", "nope")), 404, "not_found");
    const other = await h.call("GET", logsOf("logs-7"), { token: ciApi.token });
    expectError(other, 403, "forbidden");
    expect(other.text).not.toContain("ready");
    expectError(await h.call("GET", logsOf("logs-7"), { token: null }), 401, "unauthorized");
  });
});

auditSecrets(fx);
