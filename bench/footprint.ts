/**
 * Footprint benchmark: `edgeplane up` (compiled JavaScript) from spawn to a healthy API, then the
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

async function main() {
  const starts: number[] = [];
  let rows: Array<Array<string | number>> = [];
  for (let i = 0; i < STARTS; i++) {
    const system = new TestSystem();
    try {
      const t0 = performance.now();
      await system.start();
      starts.push(performance.now() - t0);
      if (i < STARTS - 1) continue;
      await sleep(10_000); // idle: boot work done, nothing asked of it
      const root = system.pid;
      if (root === undefined) throw new Error("edgeplane up is not running");
      let total = 0;
      let totalPss = 0;
      rows = [];
      for (const p of await processTree(root)) {
        const kib = await rssKiB(p.pid);
        const pss = await pssKiB(p.pid);
        if (Number.isFinite(kib)) total += kib;
        if (Number.isFinite(pss)) totalPss += pss;
        rows.push([`${"  ".repeat(p.depth)}${p.label}`, kib / 1024, pss / 1024]);
      }
      rows.push(["total", total / 1024, totalPss / 1024]);
    } finally {
      await system.stop();
    }
  }
  console.log(
    `\n\`edgeplane up\` spawn → API ready and every worker up, ${STARTS} starts (ms; services already up)\n`,
  );
  console.log(table(["", "p50", "max"], [["start → ready", percentile(starts, 0.5), Math.max(...starts)]]));
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
