import { z } from "zod";
import { ComposeError } from "./error.ts";
import type { ResourceLimits } from "./types.ts";
import { parseByteSize, parseCpuMillis } from "./units.ts";
import { at, check } from "./values.ts";

const MIB = 1024 * 1024;
/** Docker refuses a memory limit under 6 MiB. */
const MIN_MEMORY_MB = 6;
const MEMORY = 'must be a size such as "512M", "1g", "1.5G" or a number of bytes';
const CPUS = 'must be a number of CPUs such as 0.5 or "2"';

const deployShape = z.strictObject(
  {
    resources: z
      .strictObject(
        {
          limits: z
            .strictObject(
              {
                memory: z.union([z.string(), z.number()], { error: MEMORY }).optional(),
                cpus: z.union([z.string(), z.number()], { error: CPUS }).optional(),
              },
              { error: "must be a mapping with memory and cpus" },
            )
            .optional(),
        },
        { error: "must be a mapping with limits" },
      )
      .optional(),
  },
  { error: "must be a mapping with resources" },
);

/**
 * `deploy.resources.limits`: memory in whole MiB (rounded up) and CPUs in thousandths. Nothing
 * else under `deploy` is offered: edgeplane runs one container per service on one machine.
 */
export function resourceLimits(value: unknown, path: string): ResourceLimits {
  if (value === undefined) return { memoryMb: null, cpuMillis: null };
  const limits =
    check(deployShape, value, path, {
      unknownKey: "only deploy.resources.limits.memory and .cpus are offered",
    }).resources?.limits ?? {};
  const limitsPath = at(at(path, "resources"), "limits");
  let memoryMb: number | null = null;
  if (limits.memory !== undefined) {
    const bytes = parseByteSize(limits.memory);
    if (bytes === null) throw new ComposeError(at(limitsPath, "memory"), `"${limits.memory}" ${MEMORY}`);
    memoryMb = Math.ceil(bytes / MIB);
    if (memoryMb < MIN_MEMORY_MB) throw new ComposeError(at(limitsPath, "memory"), "must be at least 6M");
  }
  let cpuMillis: number | null = null;
  if (limits.cpus !== undefined) {
    cpuMillis = parseCpuMillis(limits.cpus);
    if (cpuMillis === null) throw new ComposeError(at(limitsPath, "cpus"), `"${limits.cpus}" ${CPUS}`);
    if (cpuMillis < 1) throw new ComposeError(at(limitsPath, "cpus"), "must be at least 0.001");
  }
  return { memoryMb, cpuMillis };
}
