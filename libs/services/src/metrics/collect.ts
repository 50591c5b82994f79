import { certificates, type Db, deployments, environments, eq, projects, sql } from "@edgeplane/db";
import type { Queue } from "bullmq";
import { Gauge, Registry } from "prom-client";

/**
 * Prometheus metrics read at scrape time from Postgres and the queues, so one endpoint tells the
 * truth about every process (workers keep no counters of their own that a scrape could miss).
 */
export function createMetrics(deps: { db: Db; queues: Queue[] }): Registry {
  const registry = new Registry();
  new Gauge({
    name: "edgeplane_deployments",
    help: "Deployments by status",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await deps.db
        .select({ status: deployments.status, n: sql<number>`count(*)::int` })
        .from(deployments)
        .groupBy(deployments.status);
      for (const r of rows) this.set({ status: r.status }, r.n);
    },
  });
  new Gauge({
    name: "edgeplane_environments",
    help: "Environments by status",
    labelNames: ["status", "kind"],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await deps.db
        .select({ status: environments.status, kind: environments.kind, n: sql<number>`count(*)::int` })
        .from(environments)
        .groupBy(environments.status, environments.kind);
      for (const r of rows) this.set({ status: r.status, kind: r.kind }, r.n);
    },
  });
  const certRows = () =>
    deps.db
      .select({
        project: projects.name,
        name: certificates.name,
        notAfter: certificates.notAfter,
        lastError: certificates.lastError,
      })
      .from(certificates)
      .innerJoin(projects, eq(projects.id, certificates.projectId));
  new Gauge({
    name: "edgeplane_certificate_expiry_seconds",
    help: "Seconds until each certificate expires (negative: expired)",
    labelNames: ["project", "name"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await certRows()) {
        if (r.notAfter)
          this.set({ project: r.project, name: r.name }, (r.notAfter.getTime() - Date.now()) / 1000);
      }
    },
  });
  new Gauge({
    name: "edgeplane_certificate_failing",
    help: "1 when the last issue or renewal attempt of a certificate failed",
    labelNames: ["project", "name"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await certRows()) this.set({ project: r.project, name: r.name }, r.lastError ? 1 : 0);
    },
  });
  new Gauge({
    name: "edgeplane_queue_jobs",
    help: "Jobs per queue and state",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of deps.queues) {
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed", "completed");
        for (const [state, n] of Object.entries(counts)) this.set({ queue: queue.name, state }, n);
      }
    },
  });
  new Gauge({
    name: "edgeplane_jobs_refused",
    help: "Jobs refused as unsigned, tampered, unknown-key, stale or not matching Postgres (kept in the failed set)",
    labelNames: ["queue"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of deps.queues) {
        const failed = await queue.getFailed(0, 999);
        this.set({ queue: queue.name }, failed.filter((j) => j.failedReason?.startsWith("refused")).length);
      }
    },
  });
  return registry;
}
