import { UNFINISHED_PHASES } from "@edgeplane/domain";
import { z } from "zod";

const name = z.string().min(1).max(253);
const isoDate = z.iso.datetime({ offset: true });

/** The phases a status page shows while a deployment is under way. */
export const deployPhases = UNFINISHED_PHASES;

/** What the control plane knows about a host that has no ready environment. */
export const statusPageStateSchema = z.discriminatedUnion("state", [
  z.strictObject({
    state: z.literal("deploying"),
    environment: name,
    project: name,
    phase: z.enum(deployPhases),
    since: isoDate,
    /** Where the environment will be served once ready; http(s) only, since it becomes a link. */
    url: z.url({ protocol: /^https?$/ }),
  }),
  z.strictObject({
    state: z.literal("failed"),
    environment: name,
    project: name,
    reason: z.string().min(1).max(4000),
    failedAt: isoDate,
  }),
  z.strictObject({
    state: z.literal("destroyed"),
    environment: name,
    project: name,
    destroyedAt: isoDate,
  }),
  z.strictObject({
    state: z.literal("unknown"),
    hostname: name,
  }),
]);
export type StatusPageState = z.infer<typeof statusPageStateSchema>;
export type DeployPhase = (typeof deployPhases)[number];
