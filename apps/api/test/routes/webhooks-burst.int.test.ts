import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullRequestPayload, signedDelivery } from "../../../../test/support/github.ts";
import { ApiHarness } from "../support.ts";

// Webhook deliveries that arrive together are committed together (group commit), but a delivery
// decides on the environment it locks: two deliveries for one pull request never share a
// transaction, so the newer event wins whichever order they were sent in, as with one at a time.
const h = new ApiHarness();
const secret = `whsec_${randomBytes(16).toString("hex")}`;
const repository = `acme/burst-${h.id}`;
let db: postgres.Sql;

beforeAll(async () => {
  await h.start();
  db = postgres(h.databaseUrl, { max: 1, onnotice: () => {} });
  const created = await h.call("POST", "/v1/projects", {
    json: {
      name: "burst",
      domain: "burst.test",
      port: 8080,
      repository,
      webhookSecret: secret,
      previewImage: "127.0.0.1:5001/acme/web:sha-{sha}",
    },
  });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await db?.end();
  await h.stop();
});

async function deliver(number: number, sha: string, updatedAt: Date) {
  const payload = pullRequestPayload("synchronize", { repository, number, sha, updatedAt });
  const d = await signedDelivery(secret, "pull_request", payload, randomUUID());
  return h.call("POST", "/webhooks/github", { raw: d.body, headers: d.headers, token: null });
}

describe("a burst of webhook deliveries", () => {
  it("records every delivery, and each preview ends on its newest event's commit", async () => {
    const base = Date.now() - 3_600_000;
    const sha = (pr: number, n: number) => `${pr}${n}`.padEnd(40, "a");
    // per pull request: three synchronize events; the newest (n = 2) is sent first, the older ones after
    const sends: Array<{ number: number; n: number }> = [];
    for (const n of [2, 0, 1]) for (let number = 1; number <= 8; number++) sends.push({ number, n });
    const replies = await Promise.all(
      sends.map(({ number, n }) => deliver(number, sha(number, n), new Date(base + n * 60_000))),
    );

    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 202));
    const [{ count } = { count: 0 }] = await db<{ count: number }[]>`
      select count(*)::int as count from webhook_deliveries`;
    expect(count).toBe(24);
    const envs = await db<{ name: string; head_sha: string; desired_image: string }[]>`
      select name, head_sha, desired_image from environments order by name`;
    expect(envs).toHaveLength(8);
    for (const env of envs) {
      const number = Number(env.name.slice("pr-".length));
      expect(env.head_sha).toBe(sha(number, 2));
      expect(env.desired_image).toBe(`127.0.0.1:5001/acme/web:sha-${sha(number, 2)}`);
    }
    // every deployment recorded is one its 202 named, and each preview's live one is its newest
    const named = replies.flatMap((r) =>
      (r.body as { outcomes: Array<{ deploymentId?: string }> }).outcomes.flatMap((o) =>
        o.deploymentId ? [o.deploymentId] : [],
      ),
    );
    const deployments = await db<{ id: string; status: string; image: string }[]>`
      select id, status, image from deployments`;
    expect(deployments.map((d) => d.id).sort()).toEqual([...named].sort());
    const live = deployments.filter((d) => d.status !== "superseded").map((d) => d.image);
    expect(live.sort()).toEqual(envs.map((e) => e.desired_image).sort());
  });
});
