import { setTimeout as sleep } from "node:timers/promises";
import { createDb } from "@edgeplane/db";
import { watchDeployment } from "@edgeplane/services";
import { describe, expect, it } from "vitest";
import { URLS } from "../support.ts";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

// GET /v1/deployments/:id/events: the deployment's events as server-sent events, in order, live,
// ending with `end` once the deployment is ready, failed or superseded. The phases are moved here the
// way the workers move them: the status and its event in one transaction.
const fx = routeFixtures();
const { h, ciWeb, readWeb, ciApi, deploy } = fx;

const COLUMN = {
  staging: "staging_at",
  starting: "starting_at",
  routing: "routing_at",
  ready: "ready_at",
  failed: "failed_at",
} as const;

/** Moves a deployment on as a worker does; resolves with the id of the event it recorded. */
async function advance(
  id: string,
  phase: keyof typeof COLUMN,
  extra: { error?: string; message?: string } = {},
) {
  return h.sql.begin(async (tx) => {
    await tx.unsafe(
      `update deployments set status = $1, ${COLUMN[phase]} = now(), error = coalesce($2, error) where id = $3`,
      [phase, extra.error ?? null, id],
    );
    const [event] = await tx.unsafe<Array<{ id: string }>>(
      "insert into deployment_events (deployment_id, phase, message) values ($1, $2, $3) returning id",
      [id, phase, extra.message ?? extra.error ?? null],
    );
    return Number(event?.id);
  });
}

async function eventIds(id: string): Promise<number[]> {
  const rows = await h.sql<
    Array<{ id: string }>
  >`select id from deployment_events where deployment_id = ${id} order by id`;
  return rows.map((r) => Number(r.id));
}

interface Message {
  id?: string;
  event?: string;
  data: string;
}

/** Reads server-sent events off a response body as they arrive, and the text exactly as sent. */
function sseReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let raw = "";
  let done = false;
  let reading: ReturnType<typeof reader.read> | null = null;
  return {
    get raw() {
      return raw;
    },
    /** The next message (comments skipped), or null once the stream has ended. */
    async next(timeoutMs = 5000): Promise<Message | null> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: Message = { data: "" };
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const [field, ...rest] = line.split(": ");
            const value = rest.join(": ");
            if (field === "data") data.push(value);
            else if (field === "id") message.id = value;
            else if (field === "event") message.event = value;
          }
          if (data.length === 0 && !message.event) continue;
          message.data = data.join("\n");
          return message;
        }
        if (done) return null;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no server-sent event within ${timeoutMs} ms; got so far:\n${raw}`);
        // a read still pending when a wait timed out is the one the next wait continues
        reading ??= reader.read();
        const chunk = await Promise.race([reading, sleep(left).then(() => "timeout" as const)]);
        if (chunk === "timeout") continue;
        reading = null;
        if (chunk.done) done = true;
        else {
          const text = decoder.decode(chunk.value, { stream: true });
          buffer += text;
          raw += text;
        }
      }
    },
    async cancel() {
      await reader.cancel();
    },
  };
}

describe("GET /v1/deployments/:id/events", () => {
  it("sends the events so far, then each new one as it happens, in order, then `end` with the deployment", async () => {
    const deployment = await deploy(ciWeb.token, "web", "sse-1", "ghcr.io/acme/web:sse-1");
    const res = await h.open(`/v1/deployments/${deployment.id}/events`, { token: readWeb.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const sse = sseReader(res);
    const [queuedId] = await eventIds(deployment.id);

    const queued = await sse.next();
    expect(queued?.id).toBe(String(queuedId));
    expect(queued?.event).toBe("phase");
    expect(JSON.parse(queued?.data ?? "")).toEqual({
      phase: "queued",
      message: null,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      status: "queued",
    });

    // nothing more while nothing happens
    await expect(sse.next(600)).rejects.toThrow(/no server-sent event/);

    const stagingId = await advance(deployment.id, "staging", { message: "waiting for image" });
    const staging = await sse.next();
    expect(staging).toEqual({
      id: String(stagingId),
      event: "phase",
      data: JSON.stringify({
        phase: "staging",
        message: "waiting for image",
        at: JSON.parse(staging?.data ?? "{}").at,
        status: "staging",
      }),
    });

    const startingId = await advance(deployment.id, "starting");
    const routingId = await advance(deployment.id, "routing");
    const readyId = await advance(deployment.id, "ready");
    const rest = [await sse.next(), await sse.next(), await sse.next()];
    expect(rest.map((m) => m?.id)).toEqual([String(startingId), String(routingId), String(readyId)]);
    expect(rest.map((m) => JSON.parse(m?.data ?? "").phase)).toEqual(["starting", "routing", "ready"]);

    const end = await sse.next();
    expect(end?.event).toBe("end");
    expect(end?.id).toBeUndefined();
    expect(JSON.parse(end?.data ?? "")).toMatchObject({
      id: deployment.id,
      project: "web",
      environment: "sse-1",
      url: "http://sse-1.preview.test:8080",
      image: "ghcr.io/acme/web:sse-1",
      status: "ready",
      error: null,
    });
    expect(await sse.next()).toBeNull(); // closed
    // the wire format, exactly
    expect(
      sse.raw.startsWith(`id: ${queuedId}\nevent: phase\ndata: {"phase":"queued","message":null,"at":"`),
    ).toBe(true);
    expect(sse.raw).toContain(`event: end\ndata: {"id":"${deployment.id}",`);
    expect(sse.raw.endsWith("}\n\n")).toBe(true);
  });

  it("resumes after Last-Event-ID, and tells a finished deployment's history at once", async () => {
    const deployment = await deploy(ciWeb.token, "web", "sse-2", "ghcr.io/acme/web:sse-2");
    const stagingId = await advance(deployment.id, "staging");
    const failedId = await advance(deployment.id, "failed", {
      error: "image ghcr.io/acme/web:sse-2 not found",
    });

    const all = sseReader(await h.open(`/v1/deployments/${deployment.id}/events`, { token: ciWeb.token }));
    const phases: string[] = [];
    for (let m = await all.next(); m; m = await all.next())
      phases.push(m.event === "end" ? "end" : JSON.parse(m.data).phase);
    expect(phases).toEqual(["queued", "staging", "failed", "end"]);

    const resumed = sseReader(
      await h.open(`/v1/deployments/${deployment.id}/events`, {
        token: ciWeb.token,
        headers: { "Last-Event-ID": String(stagingId) },
      }),
    );
    const failed = await resumed.next();
    expect(failed?.id).toBe(String(failedId));
    expect(JSON.parse(failed?.data ?? "")).toMatchObject({
      phase: "failed",
      message: "image ghcr.io/acme/web:sse-2 not found",
      status: "failed",
    });
    const end = await resumed.next();
    expect(end?.event).toBe("end");
    expect(JSON.parse(end?.data ?? "")).toMatchObject({
      status: "failed",
      error: "image ghcr.io/acme/web:sse-2 not found",
    });
    expect(await resumed.next()).toBeNull();

    // resumed after the last event: only the end
    const caughtUp = sseReader(
      await h.open(`/v1/deployments/${deployment.id}/events`, {
        token: ciWeb.token,
        headers: { "Last-Event-ID": String(failedId) },
      }),
    );
    expect((await caughtUp.next())?.event).toBe("end");
    expect(await caughtUp.next()).toBeNull();
  });

  it("ends a superseded deployment's stream when a newer deployment supersedes it", async () => {
    const first = await deploy(ciWeb.token, "web", "sse-3", "ghcr.io/acme/web:sse-3a");
    const sse = sseReader(await h.open(`/v1/deployments/${first.id}/events`, { token: ciWeb.token }));
    expect(JSON.parse((await sse.next())?.data ?? "").phase).toBe("queued");
    await h.sql.begin(async (tx) => {
      await tx`update deployments set status = 'superseded', superseded_at = now() where id = ${first.id}`;
      await tx`insert into deployment_events (deployment_id, phase, message) values (${first.id}, 'superseded', 'a newer deployment won')`;
    });
    const superseded = await sse.next();
    expect(JSON.parse(superseded?.data ?? "")).toMatchObject({
      phase: "superseded",
      message: "a newer deployment won",
    });
    expect(JSON.parse((await sse.next())?.data ?? "")).toMatchObject({ id: first.id, status: "superseded" });
    expect(await sse.next()).toBeNull();
  });

  it("answers errors as the one JSON error body, before any stream", async () => {
    const deployment = await deploy(ciWeb.token, "web", "sse-4", "ghcr.io/acme/web:sse-4");
    expectError(
      await h.call("GET", "/v1/deployments/dep_00000000000000000000/events", { token: ciWeb.token }),
      404,
      "not_found",
    );
    expectError(
      await h.call("GET", "/v1/deployments/nope/events", { token: ciWeb.token }),
      400,
      "bad_request",
    );
    const badResume = await h.call("GET", `/v1/deployments/${deployment.id}/events`, {
      token: ciWeb.token,
      headers: { "last-event-id": "12; drop table" },
    });
    expectError(badResume, 400, "bad_request");
    expect(badResume.body.error.message).toContain("last-event-id");
    const other = await h.call("GET", `/v1/deployments/${deployment.id}/events`, { token: ciApi.token });
    expectError(other, 403, "forbidden");
    expect(other.text).not.toContain("sse-4");
    expectError(
      await h.call("GET", `/v1/deployments/${deployment.id}/events`, { token: null }),
      401,
      "unauthorized",
    );
  });

  it("stops reading Postgres when the client goes away", async () => {
    const deployment = await deploy(ciWeb.token, "web", "sse-5", "ghcr.io/acme/web:sse-5");
    const abort = new AbortController();
    const database = createDb(h.databaseUrl, { max: 1 });
    try {
      const updates = await watchDeployment({
        ctx: { db: database.db, producer: h.producer, urls: URLS },
        principal: { kind: "admin", tokenId: null },
        input: { id: deployment.id },
        signal: abort.signal,
        pollMs: 50,
      });
      const iterator = updates[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toMatchObject({ kind: "event", event: { phase: "queued" } });
      const waiting = iterator.next();
      await sleep(300); // polled meanwhile, nothing new
      abort.abort();
      const started = Date.now();
      expect(await waiting).toEqual({ done: true, value: undefined });
      expect(Date.now() - started).toBeLessThan(200);
      // and once it has ended it reads nothing more: a later event is never told
      await advance(deployment.id, "staging");
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    } finally {
      await database.close();
    }
  });
});

auditSecrets(fx);
