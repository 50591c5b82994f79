import { randomBytes } from "node:crypto";
import { createDb, sql as drizzleSql, dropDatabase, migrateDatabase } from "@edgeplane/db";
import { createLogger } from "@edgeplane/log";
import {
  createProducer,
  createRedis,
  createSigner,
  createVerifier,
  type Envelope,
  generateSigningKey,
  type Producer,
  parsePublicKeys,
  QUEUES,
  type QueueName,
} from "@edgeplane/queue";
import type { ContainerLogs } from "@edgeplane/services";
import { type JobState, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createApp } from "../src/app.ts";

export const POSTGRES = "postgres://postgres@127.0.0.1:5432";
export const REDIS_URL = "redis://127.0.0.1:6379";
export const URLS = { scheme: "http", port: 8080 } as const;

/** Every job state BullMQ knows; no worker runs here, so new jobs stay `waiting`. */
export const JOB_STATES: JobState[] = [
  "waiting",
  "delayed",
  "active",
  "completed",
  "failed",
  "prioritized",
  "waiting-children",
];

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  body: any;
  text: string;
  headers: Headers;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`; `null` sends no Authorization header. */
  token?: string | null;
  /** JSON-encoded with content-type application/json. */
  json?: unknown;
  /** Sent as is, with whatever headers are given. */
  raw?: NonNullable<RequestInit["body"]>;
  headers?: Record<string, string>;
}

/**
 * The API in-process against its own Postgres database and its own BullMQ prefix, so a test file
 * shares nothing with any other run. Every reply is kept for the secrets audit.
 */
export class ApiHarness {
  readonly id = randomBytes(6).toString("hex");
  readonly databaseUrl = `${POSTGRES}/edgeplane_api_${this.id}`;
  readonly prefix = `ept-api-${this.id}`;
  readonly adminToken = `adm_${randomBytes(24).toString("base64url")}`;
  readonly signingKey = generateSigningKey();
  readonly replies: Array<{ method: string; path: string; status: number; text: string }> = [];
  readonly bodyLimitBytes: number;
  private readonly containerLogs: ContainerLogs | undefined;
  private database?: ReturnType<typeof createDb>;
  private connection?: Redis;
  private producerInstance?: Producer;
  private appInstance?: ReturnType<typeof createApp>;
  private readonly queues = new Map<QueueName, Queue>();

  constructor(options: { bodyLimitBytes?: number; containerLogs?: ContainerLogs } = {}) {
    this.bodyLimitBytes = options.bodyLimitBytes ?? 4096;
    this.containerLogs = options.containerLogs;
  }

  get sql() {
    if (!this.database) throw new Error("harness not started");
    return this.database.sql;
  }

  get redis(): Redis {
    if (!this.connection) throw new Error("harness not started");
    return this.connection;
  }

  /** The app itself, e.g. to serve it over real HTTP. */
  get app(): ReturnType<typeof createApp> {
    if (!this.appInstance) throw new Error("harness not started");
    return this.appInstance;
  }

  get producer(): Producer {
    if (!this.producerInstance) throw new Error("harness not started");
    return this.producerInstance;
  }

  async start(): Promise<void> {
    await migrateDatabase(this.databaseUrl);
    this.database = createDb(this.databaseUrl, { max: 5 });
    this.connection = createRedis(REDIS_URL);
    this.producerInstance = createProducer({
      connection: this.connection,
      prefix: this.prefix,
      signer: createSigner(this.signingKey.privateKey),
    });
    const { db } = this.database;
    this.appInstance = createApp({
      services: {
        db,
        producer: this.producerInstance,
        urls: URLS,
        ...(this.containerLogs ? { containerLogs: this.containerLogs } : {}),
      },
      adminToken: this.adminToken,
      log: createLogger("api-test", "silent"),
      bodyLimitBytes: this.bodyLimitBytes,
      checkReady: async () => {
        await db.execute(drizzleSql`select 1`);
      },
    });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.producerInstance?.close();
    if (this.connection) {
      await deleteKeys(this.connection, `${this.prefix}:*`);
      await this.connection.quit();
    }
    await this.database?.close();
    await dropDatabase(this.databaseUrl);
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    if (!this.appInstance) throw new Error("harness not started");
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? this.adminToken : options.token;
    if (token !== null && !Object.keys(headers).some((h) => h.toLowerCase() === "authorization")) {
      headers.authorization = `Bearer ${token}`;
    }
    let body: RequestInit["body"] = options.raw;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    }
    // a streamed body needs duplex: "half", which the DOM RequestInit type does not know yet
    const init = {
      method,
      headers,
      body,
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit;
    const res = await this.appInstance.request(path, init);
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    this.replies.push({ method, path, status: res.status, text });
    return { status: res.status, body: parsed, text, headers: res.headers };
  }

  /**
   * A request whose response is handed back as it is, its body unread: for streamed answers
   * (server-sent events, logs). Sent with the admin token unless `token` says otherwise.
   */
  async open(path: string, options: { token?: string | null; headers?: Record<string, string> } = {}) {
    if (!this.appInstance) throw new Error("harness not started");
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? this.adminToken : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    return this.appInstance.request(path, { headers });
  }

  /** A BullMQ view of one of this harness's queues, for reading what the API enqueued. */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async jobs(name: QueueName) {
    return this.queue(name).getJobs([...JOB_STATES]);
  }

  async jobCount(name: QueueName): Promise<number> {
    const counts = await this.queue(name).getJobCounts(...JOB_STATES);
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /** Checks a job's data the way a worker would: signed by this harness's key, fresh, well-formed. */
  verify(data: unknown): Envelope {
    const keys = parsePublicKeys(`${this.signingKey.kid}=${this.signingKey.publicKey}`);
    return createVerifier(keys, 60_000).verify(data);
  }

  async count(
    table: "projects" | "api_tokens" | "environments" | "deployments" | "deployment_events",
  ): Promise<number> {
    const [row] = await this.sql.unsafe<Array<{ n: number }>>(`select count(*)::int as n from ${table}`);
    return row?.n ?? 0;
  }

  /** Row counts and queue sizes: what a refused request must leave exactly as it was. */
  async snapshot() {
    return {
      projects: await this.count("projects"),
      apiTokens: await this.count("api_tokens"),
      environments: await this.count("environments"),
      deployments: await this.count("deployments"),
      deploymentEvents: await this.count("deployment_events"),
      environmentRows: (
        await this
          .sql`select id, status, generation, desired_image, current_deployment_id from environments order by id`
      ).map((r) => ({ ...r })),
      deploymentRows: (await this.sql`select id, status, generation from deployments order by id`).map(
        (r) => ({ ...r }),
      ),
      jobs: await this.allJobCounts(),
    };
  }

  /** Jobs per queue, for every queue edgeplane has. */
  async allJobCounts(): Promise<Record<string, number>> {
    const names = Object.values(QUEUES);
    const counts = await Promise.all(names.map((name) => this.jobCount(name)));
    return Object.fromEntries(names.map((name, i) => [name, counts[i] ?? 0]));
  }
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== "0");
}
