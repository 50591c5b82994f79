import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentsUnderway, markPhase, setStatusDetail } from "../src/state.ts";
import { projectDatabase } from "./support.ts";

// What a teardown yields to: a deployment on its way to running, not one queued, parked waiting for
// its image, or finished. The lookup reads the partial index the migration made.
describe("deploymentsUnderway", () => {
  let t: Awaited<ReturnType<typeof projectDatabase>>;
  beforeAll(async () => {
    t = await projectDatabase("underway");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("is true from staging to routing, false while queued, waiting for the image, or done", async () => {
    const { deployment } = await t.deploy("pr-1");
    expect(await deploymentsUnderway(t.db.db)).toBe(false); // queued

    await markPhase(t.db.db, deployment.id, "staging");
    expect(await deploymentsUnderway(t.db.db)).toBe(true);
    await setStatusDetail(t.db.db, deployment.id, "waiting for image");
    expect(await deploymentsUnderway(t.db.db)).toBe(false);

    await markPhase(t.db.db, deployment.id, "starting");
    expect(await deploymentsUnderway(t.db.db)).toBe(true);
    await markPhase(t.db.db, deployment.id, "routing");
    expect(await deploymentsUnderway(t.db.db)).toBe(true);
    await markPhase(t.db.db, deployment.id, "ready");
    expect(await deploymentsUnderway(t.db.db)).toBe(false);

    const [index] = await t.other<{ indexdef: string }[]>`
      select indexdef from pg_indexes where indexname = 'deployments_underway'`;
    expect(index?.indexdef).toContain("WHERE (status = ANY");
  });
});
