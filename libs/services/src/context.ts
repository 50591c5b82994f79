import type { Db } from "@edgeplane/db";
import type { Producer } from "@edgeplane/queue";

/** What verbs need from the outside world, built once per process. */
export interface ServiceContext {
  db: Db;
  producer: Producer;
  urls: { scheme: "http" | "https"; port: number };
}
