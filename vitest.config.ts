import { defineConfig } from "vitest/config";

// unit: pure logic, no services. integration: real Postgres, Redis, Docker, nginx, registry.
// e2e: the whole system, started as separate processes, driven over HTTP only.
export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
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
