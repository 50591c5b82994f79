import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ContainerSpec, DockerRuntime, networkNameFor } from "../src/index.ts";
import { networkInRange } from "./support.ts";

const IMAGE = process.env.EDGEPLANE_TEST_BASE_IMAGE ?? "edgeplane-test/httpd:base";

// A network holder on real Docker: made ahead on an environment's network, joined by the next
// container started there, and gone with that container or with the network.
describe("network holders", () => {
  const instance = `t-ns-${randomBytes(3).toString("hex")}`;
  const environmentId = "env_4a11e5";
  const projectId = "prj_4a11e5";
  const runtime = new DockerRuntime({
    socketPath: process.env.DOCKER_SOCKET ?? "/var/run/docker.sock",
    instance,
  });
  const name = networkNameFor(instance, environmentId);
  let subnet = "";
  let prefix = "";
  let generation = 0;

  function spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
    generation++;
    return {
      instance,
      projectId,
      projectName: "ns",
      environmentId,
      environmentName: "pr-3",
      deploymentId: `dep_${generation}`,
      generation,
      image: IMAGE,
      containerPort: 8080,
      env: { APP_MESSAGE: `generation ${generation}` },
      network: { name, address: `${prefix}.20` },
      ...overrides,
    };
  }

  /** This instance's holders, as Docker lists them. */
  const holders = () =>
    runtime.docker.listContainers({
      all: true,
      filters: { label: [`edgeplane.netns-holder=${instance}`] },
    });

  const page = async (address: string) => {
    const response = await fetch(`http://${address}:8080/`, { signal: AbortSignal.timeout(2000) });
    return { status: response.status, text: await response.text() };
  };

  const eventuallyServes = async (address: string) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const reply = await page(address).catch(() => null);
      if (reply?.status === 200 || Date.now() > deadline) return reply;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    // in 10.216.0.0/16, which nothing else in the repository uses
    prefix = await networkInRange(runtime, { instance, projectId, environmentId, name }, "10.216");
    subnet = `${prefix}.0/27`;
  });

  afterAll(async () => {
    for (const c of await runtime.list()) await runtime.remove(c.id);
    for (const n of await runtime.listNetworks()) await runtime.removeNetwork(n.name);
  });

  it("is made ahead, unseen by listings, and the next container joins it: served at its address", async () => {
    await runtime.prepareStart({ projectId, environmentId, network: { name, subnet } });
    const [holder, ...more] = await holders();
    expect(more).toEqual([]);
    expect(holder?.State).toBe("running");
    expect(await runtime.list({ environmentId })).toEqual([]);

    const started = await runtime.start(spec());
    const info = await runtime.docker.getContainer(started.id).inspect();
    expect(info.HostConfig.NetworkMode).toBe(`container:${holder?.Id}`);
    const holderInfo = await runtime.docker.getContainer(holder?.Id ?? "").inspect();
    const holderAddress = holderInfo.NetworkSettings.Networks[name]?.IPAddress;
    expect(holderAddress).toMatch(new RegExp(`^${prefix.replaceAll(".", "\\.")}\\.\\d+$`));
    expect(started.address).toBe(holderAddress);
    expect((await runtime.list({ environmentId })).map((c) => [c.id, c.address])).toEqual([
      [started.id, holderAddress],
    ]);
    expect(await eventuallyServes(holderAddress ?? "")).toEqual({ status: 200, text: "generation 1\n" });

    // a second one while the first is joined: at another address; the first keeps serving
    await runtime.prepareStart({ projectId, environmentId, network: { name, subnet } });
    const next = await runtime.start(spec());
    expect(next.address).not.toBe(started.address);
    expect(await eventuallyServes(next.address ?? "")).toEqual({ status: 200, text: "generation 2\n" });
    expect(await page(started.address ?? "")).toEqual({ status: 200, text: "generation 1\n" });

    // removing a container removes the holder it joined, and only that one
    await runtime.remove(started.id);
    expect((await holders()).map((h) => h.Id)).toEqual([
      (await runtime.docker.getContainer(next.id).inspect()).HostConfig.NetworkMode?.replace(
        "container:",
        "",
      ),
    ]);
    await runtime.remove(next.id);
    expect(await holders()).toEqual([]);
  });

  it("a start asked for while a holder is being made waits for it and joins it", async () => {
    const preparing = runtime.prepareStart({ projectId, environmentId, network: { name, subnet } });
    const started = await runtime.start(spec());
    await preparing;
    const [holder] = await holders();
    const info = await runtime.docker.getContainer(started.id).inspect();
    expect(info.HostConfig.NetworkMode).toBe(`container:${holder?.Id}`);
    await runtime.remove(started.id);
    expect(await holders()).toEqual([]);
  });

  it("a container with aliases attaches itself, at the address asked for, and a spare holder there gives way", async () => {
    await runtime.prepareStart({ projectId, environmentId, network: { name, subnet } });
    const [holder] = await holders();
    const address = holder?.Labels["edgeplane.address"] ?? "";
    const started = await runtime.start(
      spec({ network: { name, address }, aliases: ["web"], service: "web" }),
    );
    const info = await runtime.docker.getContainer(started.id).inspect();
    expect(info.HostConfig.NetworkMode).toBe(name);
    expect(info.NetworkSettings.Networks[name]?.IPAddress).toBe(address);
    expect(await holders()).toEqual([]);
    await runtime.remove(started.id);
  });

  it("a container Docker failed to start before its holder is started once the holder runs; one stopped on purpose is not", async () => {
    const joinedTo = async (id: string) =>
      (await runtime.docker.getContainer(id).inspect()).HostConfig.NetworkMode?.replace("container:", "") ??
      "";
    await runtime.prepareStart({ projectId, environmentId, network: { name, subnet } });
    const failed = await runtime.start(spec());
    await runtime.prepareStart({ projectId, environmentId, network: { name, subnet } });
    const asleep = await runtime.start(spec());
    const [failedHolder, asleepHolder] = [await joinedTo(failed.id), await joinedTo(asleep.id)];
    // what an engine restart can do: the holder not running yet when Docker starts the container
    await runtime.stop(failed.id, 1);
    await runtime.stop(asleep.id, 1);
    await runtime.docker.getContainer(failedHolder).stop();
    await runtime.docker.getContainer(asleepHolder).stop();
    await expect(runtime.docker.getContainer(failed.id).start()).rejects.toThrow(
      /cannot join network of a non running container/,
    );

    const watching = new AbortController();
    const watched = runtime.keepJoinedRunning(watching.signal);
    try {
      await runtime.docker.getContainer(failedHolder).start();
      await runtime.docker.getContainer(asleepHolder).start();
      expect(await eventuallyServes(failed.address ?? "")).toEqual({
        status: 200,
        text: `generation ${failed.generation}\n`,
      });
      expect((await runtime.docker.getContainer(asleep.id).inspect()).State.Running).toBe(false);
    } finally {
      watching.abort();
      await watched;
    }
    await runtime.remove(failed.id);
    await runtime.remove(asleep.id);
    expect(await holders()).toEqual([]);
  });

  it("removing the network removes its holders, spare or joined", async () => {
    await runtime.prepareStart({ projectId, environmentId, network: { name, subnet } });
    const started = await runtime.start(spec());
    await runtime.prepareStart({ projectId, environmentId, network: { name, subnet } });
    expect(await holders()).toHaveLength(2);
    await runtime.remove(started.id);
    expect(await holders()).toHaveLength(1); // the spare
    await runtime.removeNetwork(name);
    expect(await holders()).toEqual([]);
    expect(await runtime.listNetworks()).toEqual([]);
  });
});
