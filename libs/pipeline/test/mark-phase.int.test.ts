import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markPhase, setStatusDetail } from "../src/state.ts";
import { projectDatabase } from "./support.ts";

// A deployment's phases as the workers record them: each phase's time set once, one event per
// change of phase, what the phase waited on cleared when it moves on, nothing done to a finished one.
describe("markPhase", () => {
  let t: Awaited<ReturnType<typeof projectDatabase>>;
  beforeAll(async () => {
    t = await projectDatabase("phases");
  });
  afterAll(async () => {
    await t?.close();
  });

  const deployment = async (environment: string) => (await t.deploy(environment)).deployment.id;
  const row = async (id: string) =>
    (
      await t.other<
        {
          status: string;
          staging_at: Date | null;
          starting_at: Date | null;
          digest: string | null;
          status_detail: string | null;
          error: string | null;
        }[]
      >`select status, staging_at, starting_at, digest, status_detail, error from deployments where id = ${id}`
    )[0];
  const events = async (id: string) =>
    (
      await t.other<{ phase: string; message: string | null }[]>`
        select phase, message from deployment_events where deployment_id = ${id} order by id`
    ).map((e) => (e.message ? `${e.phase}: ${e.message}` : e.phase));

  it("records each phase once, keeps its first time, and clears what the phase before waited on", async () => {
    const id = await deployment("dev");
    expect(await setStatusDetail(t.db.db, id, "waiting for image")).toBe(true);
    expect(await markPhase(t.db.db, id, "staging")).toBe(true);
    const staged = await row(id);
    expect(staged?.status).toBe("staging");
    expect(staged?.staging_at).toBeInstanceOf(Date);
    expect(staged?.status_detail).toBeNull();

    await sleep(20);
    expect(await markPhase(t.db.db, id, "staging", { digest: "sha256:abc", statusDetail: null })).toBe(true);
    const again = await row(id);
    expect(again?.staging_at?.getTime()).toBe(staged?.staging_at?.getTime());
    expect(again?.digest).toBe("sha256:abc");

    expect(await markPhase(t.db.db, id, "starting", { statusDetail: "pulling" })).toBe(true);
    expect((await row(id))?.status_detail).toBe("pulling");
    expect(await events(id)).toEqual(["queued", "queued: waiting for image", "staging", "starting"]);
  });

  it("leaves a finished deployment as it is", async () => {
    const id = await deployment("staging");
    expect(await markPhase(t.db.db, id, "failed", { error: "image not found" })).toBe(true);
    expect(await markPhase(t.db.db, id, "starting")).toBe(false);
    const failed = await row(id);
    expect(failed?.status).toBe("failed");
    expect(failed?.error).toBe("image not found");
    expect(failed?.starting_at).toBeNull();
    expect(await events(id)).toEqual(["queued", "failed: image not found"]);
    expect(await markPhase(t.db.db, null, "starting")).toBe(false);
  });
});
