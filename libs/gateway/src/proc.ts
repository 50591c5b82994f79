import { readdir, readFile } from "node:fs/promises";

/** True if a process with this pid exists and is not a zombie. */
export async function isProcessAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = await readStat(pid);
  return stat === undefined || stat.state !== "Z";
}

/**
 * Live (non-zombie) children of a process: from the kernel's own list where it keeps one
 * (`/proc/<pid>/task/<pid>/children`, cheap), else by scanning /proc for their parent pid.
 */
export async function childPids(parent: number): Promise<Set<number>> {
  const listed = await readFile(`/proc/${parent}/task/${parent}/children`, "utf8").catch(() => undefined);
  if (listed !== undefined) {
    const children = new Set<number>();
    for (const pid of listed.split(" ").filter(Boolean).map(Number)) {
      const stat = await readStat(pid);
      if (stat && stat.ppid === parent && stat.state !== "Z") children.add(pid);
    }
    return children;
  }
  const children = new Set<number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readStat(Number(entry));
    if (stat && stat.ppid === parent && stat.state !== "Z") children.add(Number(entry));
  }
  return children;
}

interface Stat {
  state: string;
  ppid: number;
}

async function readStat(pid: number): Promise<Stat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // gone already, or no /proc on this system
  }
  // "pid (comm) state ppid ..."; comm may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", ppid: Number(fields[1]) };
}

/** The process title (argv as the process shows it), or undefined if it is gone. */
export async function processTitle(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).replaceAll("\0", " ").trim();
  } catch {
    return undefined;
  }
}
