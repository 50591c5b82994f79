import { defineConfig } from "vitest/config";

// unit: pure logic, no services. integration: real Postgres, Redis, Docker, nginx, registry.
// e2e: the whole system, started as separate processes, driven over HTTP only.
export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // the e2e tests run edgeplane compiled, as npm start does: compiled from the sources first
    globalSetup: ["./test/support/build.ts"],
    // Files are independent (own database, queue prefix, instance, ports) and mostly wait on Docker,
    // nginx and the network, not the CPU: run more of them at once than vitest's default of one
    // fewer than the cores (a single worker on a two-core machine). More than two at once starves the
    // startup of each file's edgeplane (seven Node processes) on two cores.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: "unit",
          include: ["libs/*/test/**/*.unit.test.ts", "apps/*/test/**/*.unit.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["libs/*/test/**/*.int.test.ts", "apps/*/test/**/*.int.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.e2e.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
