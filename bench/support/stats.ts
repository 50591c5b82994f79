/** Linear-interpolated percentile (p in 0..1) of the finite values; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (rank - lo);
}

/** A plain-text table: first column left-aligned, the rest right-aligned, numbers to `digits`. */
export function table(headers: string[], rows: Array<Array<string | number>>, digits = 1): string {
  const cells = rows.map((r) =>
    r.map((c) => (typeof c === "number" ? (Number.isFinite(c) ? c.toFixed(digits) : "-") : c)),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

/** The parts of `GET /v1/deployments/:id` the benchmarks read. */
export interface DeploymentView {
  id: string;
  status: string;
  error: string | null;
  digest: string | null;
  phases: Record<"queued" | "staging" | "starting" | "routing" | "ready", string | null>;
}

/** A table row: the label, then p50, p95, min and max of `values`. */
export function statsRow(label: string, values: number[]): Array<string | number> {
  return [label, percentile(values, 0.5), percentile(values, 0.95), Math.min(...values), Math.max(...values)];
}
