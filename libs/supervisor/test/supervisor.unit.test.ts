import { describe, expect, it } from "vitest";
import { Supervisor } from "../src/supervisor.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sleeper = (name: string) => ({
  name,
  command: process.execPath,
  args: ["-e", "setInterval(() => {}, 1000); console.log('up')"],
  env: { PATH: process.env.PATH },
});

describe("Supervisor", () => {
  it("stops what it started, and starts nothing once stopping (an app spawned late by up)", async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({ write: (line) => lines.push(line) });
    supervisor.start(sleeper("first"));
    const pid = supervisor.pids().first;
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid as number)).toBe(true);

    await supervisor.stop(5_000);
    supervisor.start(sleeper("late"));

    expect(alive(pid as number)).toBe(false);
    expect(supervisor.pids()).toEqual({ first: undefined });
  });
});
