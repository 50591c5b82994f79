import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gatewayPaths, NginxGateway } from "@edgeplane/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncGateway } from "../src/steps/ingress.ts";
import { projectDatabase } from "./support.ts";

// A route switch serves a config Postgres does not hold yet (the environment's new container), and
// writes it down afterwards. Any other render (a certificate installed, another environment routed)
// that read Postgres in between would put the old routing back: the ready host shown its status
// page, or sent to the container about to be pruned (a 502 until the next resync).
describe("a route switch and another gateway render at the same time", () => {
  let base: Awaited<ReturnType<typeof projectDatabase>>;
  let dir: string;

  beforeAll(async () => {
    base = await projectDatabase("sync");
    dir = await mkdtemp(join(tmpdir(), "edgeplane-sync-"));
  });
  afterAll(async () => {
    await base?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the other render waits until the switch is written down, and keeps the new routing", async () => {
    const { env } = await base.deploy("pr-1", "ghcr.io/acme/web:two");
    // routed to its first container, its second one started and not yet routed
    await base.other`
      update environments set status = 'deploying',
        routed_container_id = 'c-old', routed_address = '10.77.0.2', routed_host_port = 8080,
        observed_container_id = 'c-new', observed_address = '10.77.0.3', observed_host_port = 8080
      where id = ${env.id}`;
    const gateway = new NginxGateway({
      dir,
      listenHost: "127.0.0.1",
      listenPort: 18_080,
      controlUrl: "http://127.0.0.1:18081",
    });
    const deps = { db: base.db.db, sql: base.db.sql, gateway };
    const served = async () => readFile(gatewayPaths(dir).config, "utf8");

    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let switched!: () => void;
    const reached = new Promise<void>((resolve) => {
      switched = resolve;
    });
    const routeSwitch = syncGateway(deps, env.id, async (routed) => {
      expect([...(routed.get(env.id) ?? [])]).toEqual(["c-new"]);
      switched();
      await gate; // the switch is served, and not yet written down
      await base.other`
        update environments set status = 'ready', routed_container_id = observed_container_id,
          routed_address = observed_address, routed_host_port = observed_host_port
        where id = ${env.id}`;
      return "recorded";
    });
    await Promise.race([reached, routeSwitch]);
    expect(await served()).toContain("10.77.0.3:8080");

    let otherDone = false;
    const other = syncGateway(deps).then((result) => {
      otherDone = true;
      return result;
    });
    await sleep(300);
    expect(otherDone).toBe(false);
    open();
    expect((await routeSwitch).recorded).toBe("recorded");
    expect([...((await other).routed.get(env.id) ?? [])]).toEqual(["c-new"]);
    const config = await served();
    expect(config).toContain("10.77.0.3:8080");
    expect(config).not.toContain("10.77.0.2");
  });
});
