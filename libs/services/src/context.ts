import type { Db } from "@edgeplane/db";
import type { PublicUrls } from "@edgeplane/domain";
import type { Producer } from "@edgeplane/queue";

/** What verbs need from the outside world, built once per process. */
export interface ServiceContext {
  db: Db;
  producer: Producer;
  /** How environment URLs are shown; projects with TLS are shown as `https` on `httpsPort`. */
  urls: PublicUrls;
  /** Seals projects' registry credentials (the public half only: they cannot be read back). */
  credentialsPublicKey?: string;
  /** Reads environments' container output (the runtime, over the Docker socket); absent: logs are unavailable. */
  containerLogs?: ContainerLogs;
}

/** What reading an environment's logs needs of the runtime (its `logs`; see @edgeplane/runtime). */
export interface ContainerLogs {
  logs(
    id: string,
    options: { tail: number; follow: boolean; signal?: AbortSignal },
  ): Promise<AsyncIterable<Buffer> | null>;
}
