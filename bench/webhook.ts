/**
 * Webhook → live benchmark: a signed `pull_request` delivery (opened) for a project with a preview
 * image template, whose image for that head commit is already in the registry and on Docker,
 * → the first 200 through the gateway at `pr-N.{domain}`. Each round is a new pull request, so each
 * starts a fresh environment. Alternating with it, the bare baseline: `docker run` of the same image
 * → first 200 on its published port. Before each sample, edgeplane's background work (the last
 * preview's teardown, spare networks made again) has ended, as a pull request seldom opens in the
 * second after another one closed. Then N more deliveries, each followed 50 ms later by the closing
 * of the pull request before it: its teardown runs beside the start (it yields to starts in
 * progress, for up to 5 s). Prints a table, asserts nothing. BENCH_WEBHOOKS sets the rounds
 * (default 10).
 */

import { randomBytes, randomUUID } from "node:crypto";
import { Agent } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { pullRequestPayload, signedDelivery } from "../test/support/github.ts";
import { docker, publishTestImage } from "../test/support/images.ts";
import { TestSystem } from "../test/support/system.ts";
import { alternate, bareRun } from "./support/probe.ts";
import { quiet } from "./support/quiet.ts";
import { percentile, statsRow, table } from "./support/stats.ts";

const N = Math.max(1, Number(process.env.BENCH_WEBHOOKS ?? 10) || 10);
const fresh = new Agent({ keepAlive: false });
/** When, after a delivery, the pull request before it closes (in the rows beside a teardown). */
const CLOSE_AFTER_MS = 50;
/** Spare networks `up` keeps with network holders on (its default). */
const SPARES = 2;

async function main() {
  const system = new TestSystem();
  const sql = postgres(system.databaseUrl, { max: 1, onnotice: () => {} });
  const repository = `acme/hook-${system.id}`;
  const imageRepo = `acme/hook-${system.id}`;
  const secret = `whsec_${randomBytes(16).toString("hex")}`;
  const sha = "c".repeat(40);
  try {
    const image = await publishTestImage(imageRepo, `sha-${sha}`, { message: "hook" });
    await system.start();
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "hook",
        domain: "hook.test",
        port: 8080,
        healthcheckPath: "/healthz",
        repository,
        webhookSecret: secret,
        previewImage: `127.0.0.1:5001/${imageRepo}:sha-{sha}`,
      },
    });
    if (project.status !== 201) throw new Error(`project: ${project.status}`);

    const close = async (number: number) => {
      await system.api("DELETE", `/v1/projects/hook/environments/pr-${number}`);
      await system.waitForEnvironment("hook", `pr-${number}`, (e) => e.status === "destroyed");
    };
    /**
     * One pull request opened → the first 200 at its preview's host. With `closing`, that pull
     * request closes CLOSE_AFTER_MS after the delivery: its teardown runs beside this start.
     */
    const openPullRequest = async (number: number, closing?: number): Promise<number> => {
      const payload = pullRequestPayload("opened", { repository, number, sha, updatedAt: new Date() });
      const delivery = await signedDelivery(secret, "pull_request", payload, randomUUID());
      const t0 = performance.now();
      const res = await system.post("/webhooks/github", delivery.body, delivery.headers);
      if (res.status !== 202) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
      const closed = closing === undefined ? undefined : sleep(CLOSE_AFTER_MS).then(() => close(closing));
      const deadline = Date.now() + 60_000;
      for (;;) {
        const page = await system.viaGateway(`pr-${number}.hook.test`, "/", fresh).catch(() => null);
        if (page?.status === 200) break;
        if (Date.now() > deadline) throw new Error(`pr-${number} never answered 200`);
        await sleep(10);
      }
      const took = performance.now() - t0;
      await closed;
      return took;
    };
    const bareOnce = async () =>
      (await bareRun(docker, image, { label: system.instance, containerPort: 8080, healthPath: "/healthz" }))
        .first200;

    // the first round stages the image (pulled onto Docker); the measured ones find it staged
    await openPullRequest(100);
    await close(100);
    await bareOnce();
    const samples: number[] = [];
    const bares: number[] = [];
    const besideTeardown: number[] = [];
    for (let i = 1; i <= N; i++) {
      await alternate(
        i,
        async () => {
          await quiet(system, sql, SPARES);
          samples.push(await openPullRequest(100 + i));
          await close(100 + i);
        },
        async () => {
          await quiet(system, sql, SPARES);
          bares.push(await bareOnce());
        },
      );
      process.stderr.write(`bench: ${i}/${N}\r`);
    }
    // then pull requests that open as the one before closes
    await openPullRequest(200);
    for (let i = 1; i <= N; i++) {
      await quiet(system, sql, SPARES);
      besideTeardown.push(await openPullRequest(200 + i, 200 + i - 1));
      process.stderr.write(`bench: beside a teardown ${i}/${N}\r`);
    }
    await close(200 + N);
    process.stderr.write("\n");
    console.log(
      `\nwebhook (pull_request opened, image staged) → first 200 via the gateway, ${N} pull requests, alternating with ${N} bare runs (ms)\n`,
    );
    console.log(
      table(
        ["", "p50", "p95", "min", "max"],
        [
          statsRow("signed delivery → first 200", samples),
          statsRow("bare docker run → first 200", bares),
          statsRow(`  the same, another preview closing ${CLOSE_AFTER_MS} ms after it`, besideTeardown),
        ],
      ),
    );
    const ratio = (p: number) => (percentile(samples, p) / percentile(bares, p)).toFixed(2);
    console.log(`\n÷ bare: p50 ${ratio(0.5)}x, p95 ${ratio(0.95)}x`);
  } finally {
    fresh.destroy();
    await sql.end();
    await system.stop();
  }
}

await main();
