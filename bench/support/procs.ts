import { readdir, readFile } from "node:fs/promises";

/** The processes of a system, from /proc: what each is, and how much memory it holds. */

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
  comm: string;
}

/** The command name in a /proc/<pid>/stat line. */
const commOf = (stat: string) => stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));

/** The CPU time (user and system) in a /proc/<pid>/stat line, in ms (clock ticks of 10 ms). */
function cpuMsOf(stat: string): number {
  const [utime = 0, stime = 0] = stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .slice(11, 13)
    .map(Number);
  return (utime + stime) * 10;
}

async function readProc(pid: number): Promise<Proc | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const comm = commOf(stat);
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).replaceAll("\0", " ").trim();
    return { pid, ppid, cmdline, comm };
  } catch {
    return undefined; // gone meanwhile
  }
}

export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
}

/**
 * Proportional set size: the process's private pages plus its share of pages it shares with
 * others (the node binary's code, mapped by every Node process, counts once across them). The sum
 * over a system's processes is what the system occupies in memory; the sum of RSS counts shared
 * pages once per process.
 */
export async function pssKiB(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
  return Number(/^Pss:\s+(\d+)\s+kB/m.exec(rollup)?.[1] ?? Number.NaN);
}

/** CPU time (user and system) a process has used so far, in ms, from /proc (clock ticks of 10 ms). */
export async function cpuMs(pid: number): Promise<number> {
  return cpuMsOf(await readFile(`/proc/${pid}/stat`, "utf8"));
}

function labelFor(proc: Proc, parentLabel: string | undefined): string {
  const c = proc.cmdline;
  if (/apps\/cli\/(?:src\/main\.ts|dist\/main\.js)/.test(c)) return "edgeplane up";
  const app = /apps\/([a-z0-9-]+)\/(?:src\/main\.ts|dist\/main\.js)/.exec(c)?.[1];
  if (app) return app; // api, worker-stage, worker-reconcile, worker-ingress, …
  if (c.startsWith("nginx: master process")) return "nginx master";
  if (c.startsWith("nginx: worker process")) return "nginx worker";
  if (/esbuild/.test(c) || proc.comm === "esbuild") return `esbuild (tsx, of ${parentLabel ?? "?"})`;
  return `${proc.comm} (of ${parentLabel ?? "?"})`;
}

export async function processTree(root: number): Promise<Array<Proc & { label: string; depth: number }>> {
  const all = (
    await Promise.all((await readdir("/proc")).filter((e) => /^\d+$/.test(e)).map((e) => readProc(Number(e))))
  ).filter((p): p is Proc => p !== undefined);
  const byParent = new Map<number, Proc[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const rootProc = all.find((p) => p.pid === root);
  if (!rootProc) return [];
  const out: Array<Proc & { label: string; depth: number }> = [];
  const walk = (p: Proc, depth: number, parentLabel: string | undefined) => {
    const label = labelFor(p, parentLabel);
    out.push({ ...p, label, depth });
    for (const child of (byParent.get(p.pid) ?? []).sort((a, b) => a.pid - b.pid))
      walk(child, depth + 1, label);
  };
  walk(rootProc, 0, undefined);
  return out;
}

/** CPU time (ms) used so far by every process whose command name is one of `names`, summed per name. */
export async function cpuByCommand(names: readonly string[]): Promise<Map<string, number>> {
  const totals = new Map(names.map((n) => [n, 0]));
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const comm = commOf(stat);
    if (totals.has(comm)) totals.set(comm, (totals.get(comm) ?? 0) + cpuMsOf(stat));
  }
  return totals;
}

/** The machine's busy CPU time so far (every core, every process and the kernel), in ms, from /proc/stat. */
export async function machineBusyMs(): Promise<number> {
  const first = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
  // cpu  user nice system idle iowait irq softirq steal …
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = first
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq) * 10;
}
