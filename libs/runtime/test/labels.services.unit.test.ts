import { describe, expect, it } from "vitest";
import { dockerHealthcheck, healthFromStatusText } from "../src/docker/health-status.ts";
import { volumeMounts } from "../src/docker/mounts.ts";
import { labelsFor, volumeNameFor } from "../src/index.ts";

const base = {
  instance: "t1",
  projectId: "prj_1",
  environmentId: "env_1",
  generation: 2,
  deploymentId: null,
};

describe("service and config labels", () => {
  it("are added only when given, and only when safe", () => {
    expect(labelsFor(base)).not.toHaveProperty("edgeplane.service");
    expect(labelsFor({ ...base, service: "api-2", configHash: "00ff" })).toMatchObject({
      "edgeplane.service": "api-2",
      "edgeplane.config": "00ff",
    });
    for (const service of ["", "API", "a_b", "a.b", "a b", "x".repeat(64), "a\nb"]) {
      expect(() => labelsFor({ ...base, service })).toThrow(/unsafe label value for edgeplane.service/);
    }
    for (const configHash of ["", "xyz", "ABCD", "0".repeat(65), "00 ff"]) {
      expect(() => labelsFor({ ...base, configHash })).toThrow(/unsafe label value for edgeplane.config/);
    }
    expect(labelsFor({ ...base, service: "x".repeat(63), configHash: "f".repeat(64) })).toMatchObject({
      "edgeplane.service": "x".repeat(63),
    });
  });
});

describe("volume names and mounts", () => {
  it("name a volume for its instance and environment", () => {
    expect(volumeNameFor("t1", "env_1", "pg.data_1")).toBe("ep-t1-env_1-pg.data_1");
    for (const bad of ["", "A", "a/b", "x".repeat(64), "a b"])
      expect(() => volumeNameFor("t1", "env_1", bad)).toThrow();
  });

  it("mount only that environment's volumes, as volumes", () => {
    expect(
      volumeMounts("t1", "env_1", [{ volume: "ep-t1-env_1-data", target: "/d", readOnly: true }]),
    ).toEqual([{ Type: "volume", Source: "ep-t1-env_1-data", Target: "/d", ReadOnly: true }]);
    for (const volume of [
      "ep-t1-env_2-data",
      "ep-t2-env_1-data",
      "ep-t1-env_1-",
      "ep-t1-env_1-a/b",
      "/etc",
      "data",
    ]) {
      expect(() => volumeMounts("t1", "env_1", [{ volume, target: "/d", readOnly: false }])).toThrow(
        /refusing to mount/,
      );
    }
  });
});

describe("healthchecks", () => {
  it("read Docker's verdict from a listing's status text", () => {
    expect(healthFromStatusText("Up 3 seconds (health: starting)")).toBe("starting");
    expect(healthFromStatusText("Up 10 seconds (healthy)")).toBe("healthy");
    expect(healthFromStatusText("Up 2 minutes (unhealthy)")).toBe("unhealthy");
    expect(healthFromStatusText("Up 2 minutes")).toBeNull();
    expect(healthFromStatusText("Up 2 minutes (Paused)")).toBeNull();
    expect(healthFromStatusText("Exited (3) 1 second ago")).toBeNull();
    expect(healthFromStatusText(undefined)).toBeNull();
  });

  it("become Docker's HEALTHCHECK in nanoseconds; null disables the image's", () => {
    expect(
      dockerHealthcheck({
        test: ["CMD-SHELL", "true"],
        intervalMs: 500,
        timeoutMs: 2000,
        retries: 3,
        startPeriodMs: 0,
      }),
    ).toEqual({
      Test: ["CMD-SHELL", "true"],
      Interval: 500_000_000,
      Timeout: 2_000_000_000,
      Retries: 3,
      StartPeriod: 0,
    });
    expect(dockerHealthcheck(null)).toEqual({ Test: ["NONE"] });
    expect(dockerHealthcheck(undefined)).toBeUndefined();
    expect(() =>
      dockerHealthcheck({ test: ["curl", "x"], intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 }),
    ).toThrow(/CMD/);
  });
});
