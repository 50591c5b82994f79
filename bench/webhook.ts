/**
 * Webhook → live benchmark: a signed `pull_request` delivery (opened) for a project with a preview
 * image template, whose image for that head commit is already in the registry and on Docker,
 * → the first 200 through the gateway at `pr-N.{domain}`. Each round is a new pull request, so each
 * starts a fresh environment. Prints a table, asserts nothing. BENCH_WEBHOOKS sets the rounds
 * (default 10).
 */

import { randomBytes, randomUUID } from "node:crypto";
import { Agent } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { pullRequestPayload, signedDelivery } from "../test/support/github.ts";
import { publishTestImage } from "../test/support/images.ts";
import { TestSystem } from "../test/support/system.ts";
import { percentile, table } from "./support/stats.ts";

const N = Math.max(1, Number(process.env.BENCH_WEBHOOKS ?? 10) || 10);
const fresh = new Agent({ keepAlive: false });

async function main() {
  const system = new TestSystem();
  const repository = `acme/hook-${system.id}`;
  const imageRepo = `acme/hook-${system.id}`;
  const secret = `whsec_${randomBytes(16).toString("hex")}`;
  const sha = "c".repeat(40);
  try {
    await publishTestImage(imageRepo, `sha-${sha}`, { message: "hook" });
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
    const samples: number[] = [];
    // the first round stages the image (pulled onto Docker); the measured ones find it staged
    for (let i = 0; i <= N; i++) {
      const number = 100 + i;
      const payload = pullRequestPayload("opened", { repository, number, sha, updatedAt: new Date() });
      const delivery = await signedDelivery(secret, "pull_request", payload, randomUUID());
      const t0 = performance.now();
      const res = await system.post("/webhooks/github", delivery.body, delivery.headers);
      if (res.status !== 202) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const page = await system.viaGateway(`pr-${number}.hook.test`, "/", fresh).catch(() => null);
        if (page?.status === 200) break;
        if (Date.now() > deadline) throw new Error(`pr-${number} never answered 200`);
        await sleep(10);
      }
      if (i > 0) samples.push(performance.now() - t0);
      await system.api("DELETE", `/v1/projects/hook/environments/pr-${number}`);
    }
    console.log(
      `\nwebhook (pull_request opened, image staged) → first 200 via the gateway, ${N} pull requests (ms)\n`,
    );
    console.log(
      table(
        ["", "p50", "p95", "min", "max"],
        [
          [
            "signed delivery → first 200",
            percentile(samples, 0.5),
            percentile(samples, 0.95),
            Math.min(...samples),
            Math.max(...samples),
          ],
        ],
      ),
    );
  } finally {
    fresh.destroy();
    await system.stop();
  }
}

await main();
