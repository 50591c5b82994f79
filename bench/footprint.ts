/**
 * Footprint benchmark: `npm start` (services check, build check, `edgeplane up` running compiled
 * JavaScript) from spawn to a healthy API and to every worker up, then the
 * idle RSS of each of its processes and of the whole system, next to a bare `node -e` process as
 * the floor every Node process pays. Prints tables, asserts nothing. BENCH_STARTS sets how many
 * starts are timed (default 3).
 */

import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { TestSystem } from "../test/support/system.ts";
import { processTree, pssKiB, rssKiB } from "./support/procs.ts";
import { percentile, table } from "./support/stats.ts";

const STARTS = Math.max(1, Number(process.env.BENCH_STARTS ?? 3) || 3);

function bareNodeMiB(): { rss: number; pss: number } {
  const out = execFileSync(process.execPath, [
    "-e",
    "setTimeout(() => { const s = require('fs').readFileSync('/proc/self/smaps_rollup', 'utf8'); console.log(/^Rss:\\s+(\\d+)/m.exec(s)[1], /^Pss:\\s+(\\d+)/m.exec(s)[1]); }, 500)",
  ]);
  const [rss = Number.NaN, pss = Number.NaN] = out.toString().trim().split(" ").map(Number);
  return { rss: rss / 1024, pss: pss / 1024 };
}

/** Times a start: spawn → the API's /readyz answers, and → every worker is up (`start` resolves). */
async function timedStart(system: TestSystem): Promise<{ api: number; all: number }> {
  const t0 = performance.now();
  let api = Number.NaN;
  let done = false;
  const watch = (async () => {
    while (!done && Number.isNaN(api)) {
      const ok =
        system.apiPort > 0 &&
        (await fetch(`${system.apiUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        ));
      if (ok) api = performance.now() - t0;
      else await sleep(10);
    }
  })();
  try {
    await system.start({}, { via: "npm start" });
  } finally {
    done = true;
    await watch;
  }
  return { api, all: performance.now() - t0 };
}

async function main() {
  const cold: Array<{ api: number; all: number }> = [];
  const warm: Array<{ api: number; all: number }> = [];
  let rows: Array<Array<string | number>> = [];
  for (let i = 0; i < STARTS; i++) {
    const system = new TestSystem();
    try {
      // as a user starts it (services check and build included): the first time, with a new database
      // to migrate, then again after Ctrl-C
      cold.push(await timedStart(system));
      const left = await system.interrupt();
      if (left.length > 0) throw new Error(`processes left after Ctrl-C: ${left.join(", ")}`);
      warm.push(await timedStart(system));
      if (i < STARTS - 1) continue;
      await sleep(10_000); // idle: boot work done, nothing asked of it
      const root = system.pid;
      if (root === undefined) throw new Error("edgeplane up is not running");
      let total = 0;
      let totalPss = 0;
      rows = [];
      const launcher: Array<Array<string | number>> = [];
      const tree = await processTree(root);
      const up = tree.find((p) => p.label === "edgeplane up");
      for (const p of tree) {
        const kib = await rssKiB(p.pid);
        const pss = await pssKiB(p.pid);
        // npm and its shell only launch `up`: listed, not counted as edgeplane's
        if (up === undefined || p.depth < up.depth) {
          launcher.push([`${p.label} (launcher, not counted)`, kib / 1024, pss / 1024]);
          continue;
        }
        if (Number.isFinite(kib)) total += kib;
        if (Number.isFinite(pss)) totalPss += pss;
        rows.push([`${"  ".repeat(p.depth - up.depth)}${p.label}`, kib / 1024, pss / 1024]);
      }
      rows.push(["total", total / 1024, totalPss / 1024], ...launcher);
    } finally {
      await system.stop();
    }
  }
  const row = (label: string, values: number[]) => [label, percentile(values, 0.5), Math.max(...values)];
  console.log(
    `\nstarts, ${STARTS} of each (ms; services already up; target: npm start → API healthy ≤ 3000)\n`,
  );
  console.log(
    table(
      ["", "p50", "max"],
      [
        row(
          "npm start → API healthy (database migrated)",
          warm.map((s) => s.api),
        ),
        row(
          "npm start → every worker up",
          warm.map((s) => s.all),
        ),
        row(
          "npm start → API healthy (new database)",
          cold.map((s) => s.api),
        ),
        row(
          "npm start → every worker up (new database)",
          cold.map((s) => s.all),
        ),
      ],
    ),
  );
  console.log(
    "\nidle memory of each process (MiB; targets: RSS 90 per Node process, 600 in all; PSS counts pages\n" +
      "the processes share, such as the node binary's code, once in all)\n",
  );
  const floor = bareNodeMiB();
  console.log(
    table(["process", "RSS MiB", "PSS MiB"], [...rows, ["bare node process (floor)", floor.rss, floor.pss]]),
  );
}

await main();
