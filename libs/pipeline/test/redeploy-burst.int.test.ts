import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectDatabase } from "./support.ts";

// Redeploys that arrive together are committed together (group commit): every one of them is
// recorded, and each environment ends with exactly one live deployment, the one it points at.
describe("a burst of redeploys to several environments", () => {
  let t: Awaited<ReturnType<typeof projectDatabase>>;
  beforeAll(async () => {
    t = await projectDatabase("burst");
  });
  afterAll(async () => {
    await t?.close();
  });

  const deploy = (environment: string, image: string) => t.deploy(environment, image);

  it("records all of them, superseding all but each environment's latest", async () => {
    const names = ["dev", "staging", "pr-1"];
    for (const name of names) await deploy(name, "ghcr.io/acme/web:first");

    const burst = Array.from({ length: 60 }, (_, i) => ({
      environment: names[i % names.length] ?? "dev",
      image: `ghcr.io/acme/web:b${i}`,
    }));
    const recorded = await Promise.all(burst.map((d) => deploy(d.environment, d.image)));

    expect(new Set(recorded.map((r) => r.deployment.id)).size).toBe(60);
    for (const name of names) {
      const [env] = await t.other<{ id: string; generation: number; current: string; image: string }[]>`
        select id, generation, current_deployment_id as current, desired_image as image
        from environments where name = ${name}`;
      // one bump per deploy: the first and its 20 of the burst
      expect(env?.generation).toBe(21);
      const rows = await t.other<{ id: string; status: string; image: string; generation: number }[]>`
        select id, status, image, generation from deployments where environment_id = ${env?.id ?? ""}
        order by generation`;
      expect(rows).toHaveLength(21);
      const live = rows.filter((r) => r.status !== "superseded");
      expect(live).toHaveLength(1);
      // the live one is the latest generation, the one the environment points at, with its image
      expect(live[0]?.generation).toBe(21);
      expect(live[0]?.id).toBe(env?.current);
      expect(live[0]?.image).toBe(env?.image);
      // and it is one the burst asked for, as the 202 of that request said
      const answered = recorded.find((r) => r.deployment.id === env?.current);
      expect(answered?.deployment.image).toBe(env?.image);
    }
  });
});
