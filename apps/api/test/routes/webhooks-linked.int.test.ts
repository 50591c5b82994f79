import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullRequestPayload, signedDelivery } from "../../../../test/support/github.ts";
import { ApiHarness } from "../support.ts";

// The API keeps the projects linked to a repository as its last delivery read them; a delivery
// is still verified and decided against the projects as they are when it is recorded.
const h = new ApiHarness();
const repository = `acme/linked-${h.id}`;
const newSecret = () => `whsec_${randomBytes(16).toString("hex")}`;
const firstSecret = newSecret();

beforeAll(async () => {
  await h.start();
  const created = await h.call("POST", "/v1/projects", {
    json: {
      name: "linked",
      domain: "linked.test",
      port: 8080,
      repository,
      webhookSecret: firstSecret,
      previewImage: "127.0.0.1:5001/acme/web:sha-{sha}",
    },
  });
  expect(created.status, created.text).toBe(201);
});

afterAll(async () => {
  await h.stop();
});

let minute = 0;
/** A `synchronize` of pull request `number`, newer than every delivery before it, signed with `secret`. */
async function deliver(secret: string, number: number) {
  minute += 1;
  const sha = randomBytes(20).toString("hex");
  const updatedAt = new Date(Date.now() - 3_600_000 + minute * 60_000);
  const payload = pullRequestPayload("synchronize", { repository, number, sha, updatedAt });
  const d = await signedDelivery(secret, "pull_request", payload, randomUUID());
  const reply = await h.call("POST", "/webhooks/github", { raw: d.body, headers: d.headers, token: null });
  return { reply, sha };
}

const outcomesOf = (body: unknown) =>
  (body as { outcomes: Array<{ project: string; action: string; deploymentId?: string }> }).outcomes;

async function deliveriesRecorded(): Promise<number> {
  const [row] = await h.sql<{ count: number }[]>`select count(*)::int as count from webhook_deliveries`;
  return row?.count ?? 0;
}

describe("webhook deliveries after the linked projects change", () => {
  it("refuses the old secret and takes the new one as soon as the secret is rotated", async () => {
    const first = await deliver(firstSecret, 1);
    expect(first.reply.status, first.reply.text).toBe(202);

    const rotated = newSecret();
    const patched = await h.call("PATCH", "/v1/projects/linked", { json: { webhookSecret: rotated } });
    expect(patched.status, patched.text).toBe(200);
    const before = await deliveriesRecorded();
    const old = await deliver(firstSecret, 1);
    expect(old.reply.status, old.reply.text).toBe(401);
    expect((old.reply.body as { error: { code: string } }).error.code).toBe("unauthorized");
    expect(await deliveriesRecorded()).toBe(before);

    const fresh = await deliver(rotated, 1);
    expect(fresh.reply.status, fresh.reply.text).toBe(202);
    expect(await deliveriesRecorded()).toBe(before + 1);

    // rotated behind the API's back (no verb at all): the next delivery is checked against it too
    const third = newSecret();
    await h.sql`update projects set webhook_secret = ${third} where name = 'linked'`;
    const stale = await deliver(rotated, 1);
    expect(stale.reply.status, stale.reply.text).toBe(401);
    expect(await deliveriesRecorded()).toBe(before + 1);
    await h.call("PATCH", "/v1/projects/linked", { json: { webhookSecret: rotated } });
  });

  it("deploys the image the project names now, not the one a previous delivery read", async () => {
    const warm = await deliver(await currentSecret(), 2);
    expect(warm.reply.status, warm.reply.text).toBe(202);
    // changed behind the API's back: the cached project row is older than this
    await h.sql`update projects set preview_image = '127.0.0.1:5001/acme/other:pr-{number}-{sha}'
      where name = 'linked'`;
    const next = await deliver(await currentSecret(), 2);
    expect(next.reply.status, next.reply.text).toBe(202);
    const [outcome] = outcomesOf(next.reply.body);
    expect(outcome?.action).toBe("deploy");
    const [row] = await h.sql<
      { image: string }[]
    >`select image from deployments where id = ${outcome?.deploymentId ?? ""}`;
    expect(row?.image).toBe(`127.0.0.1:5001/acme/other:pr-2-${next.sha}`);
  });

  it("takes a project linked to the repository after the others were read, and drops one unlinked", async () => {
    const secret = await currentSecret();
    expect((await deliver(secret, 3)).reply.status).toBe(202);
    const second = await h.call("POST", "/v1/projects", {
      json: {
        name: "linked-too",
        domain: "linked-too.test",
        port: 8080,
        repository,
        webhookSecret: secret,
        previewImage: "127.0.0.1:5001/acme/too:sha-{sha}",
      },
    });
    expect(second.status, second.text).toBe(201);
    const both = await deliver(secret, 3);
    expect(both.reply.status, both.reply.text).toBe(202);
    expect(
      outcomesOf(both.reply.body)
        .map((o) => o.project)
        .sort(),
    ).toEqual(["linked", "linked-too"]);

    const unlinked = await h.call("PATCH", "/v1/projects/linked", { json: { repository: null } });
    expect(unlinked.status, unlinked.text).toBe(200);
    const one = await deliver(secret, 3);
    expect(one.reply.status, one.reply.text).toBe(202);
    expect(outcomesOf(one.reply.body).map((o) => o.project)).toEqual(["linked-too"]);

    const gone = await h.call("PATCH", "/v1/projects/linked-too", { json: { repository: null } });
    expect(gone.status, gone.text).toBe(200);
    const none = await deliver(secret, 3);
    expect(none.reply.status, none.reply.text).toBe(404);
  });
});

async function currentSecret(): Promise<string> {
  const [row] = await h.sql<{ webhook_secret: string }[]>`
    select webhook_secret from projects where name = 'linked'`;
  if (!row) throw new Error("project linked not found");
  return row.webhook_secret;
}
