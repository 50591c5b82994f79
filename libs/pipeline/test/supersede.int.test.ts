import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectDatabase } from "./support.ts";

// A deploy supersedes every older unfinished deployment of its environment, and hands back the
// ones still `queued` (their stage jobs are withdrawn). A stage worker may move one of them on
// (queued → staging) while the deploy runs: that one must be superseded too, and not withdrawn.
describe("superseding while a worker moves an older deployment on", () => {
  let t: Awaited<ReturnType<typeof projectDatabase>>;
  beforeAll(async () => {
    t = await projectDatabase("race");
  });
  afterAll(async () => {
    await t?.close();
  });

  const deploy = (image: string) => t.deploy("pr-1", image);

  it("supersedes it as well, and leaves its job to the worker", async () => {
    const first = await deploy("ghcr.io/acme/web:one");
    const second = await deploy("ghcr.io/acme/web:two");
    expect(second.superseded).toEqual([first.deployment.id]);

    // the worker takes the second deployment's job: it holds the row while the third deploy runs
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const moved = t.other.begin(async (tx) => {
      await tx`update deployments set status = 'staging' where id = ${second.deployment.id}`;
      await released;
    });
    await sleep(100);
    const third = deploy("ghcr.io/acme/web:three");
    await sleep(300); // the deploy now waits for the worker's row
    release();
    await moved;
    const recorded = await third;

    // started by the worker: superseded, but not handed back for withdrawal
    expect(recorded.superseded).toEqual([]);
    const rows = await t.other<{ id: string; status: string }[]>`
      select id, status from deployments order by generation`;
    expect(rows).toEqual([
      { id: first.deployment.id, status: "superseded" },
      { id: second.deployment.id, status: "superseded" },
      { id: recorded.deployment.id, status: "queued" },
    ]);
    const events = await t.other<{ phase: string }[]>`
      select phase from deployment_events where deployment_id = ${second.deployment.id} order by id`;
    expect(events.map((e) => e.phase)).toContain("superseded");
  });
});
