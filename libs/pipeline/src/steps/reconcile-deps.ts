import type { EdgeRegistry, PublicUrls } from "@edgeplane/domain";
import type { WorkerDeps } from "@edgeplane/queue";
import type { Runtime } from "@edgeplane/runtime";
import type { NetworkPool } from "../network.ts";
import type { ImagePullDeps } from "./runtime-images.ts";

export interface ReconcileDeps extends WorkerDeps {
  runtime: Runtime;
  instance: string;
  healthTimeoutMs: number;
  /** The same edge configuration as worker-stage's: the image runs as `edge/repo@digest`. */
  edge: EdgeRegistry | null;
  pullAuth?: ImagePullDeps["pullAuth"];
  /** Where environments' private networks get their subnets. */
  pool: NetworkPool;
  /** Whether the next start of an environment is readied after each deploy (network holders). */
  readyNextStart?: boolean;
  /** How many environment networks are kept made ahead for new environments (see refillSpares). */
  spares?: number;
  /** How URLs are shown: compose services are told their own and each other's. */
  urls: PublicUrls;
}
