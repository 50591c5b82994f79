import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { sign } from "@octokit/webhooks-methods";

interface Repository {
  full_name: string;
  fork?: boolean;
  [field: string]: unknown;
}

/** The fields of a `pull_request` delivery edgeplane reads (and these helpers set); GitHub sends many more. */
export interface PullRequestEvent {
  action: string;
  number: number;
  pull_request: {
    number: number;
    state: string;
    draft: boolean;
    updated_at: string;
    closed_at: string | null;
    merged: boolean;
    head: { sha: string; ref: string; repo: Repository | null; [field: string]: unknown };
    base: { repo: Repository; [field: string]: unknown };
    labels: Array<{ name: string }>;
    [field: string]: unknown;
  };
  repository: Repository;
  label?: { name: string };
  [field: string]: unknown;
}

interface WebhookDefinition {
  name: string;
  examples: Array<{ action?: string; [field: string]: unknown }>;
}
const definitions: WebhookDefinition[] = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve("@octokit/webhooks-examples"), "utf8"),
);

/** A real `pull_request` payload published by GitHub, retargeted at `repository` and PR `number`. */
export function pullRequestPayload(
  action: string,
  options: {
    repository: string;
    number: number;
    sha: string;
    updatedAt: Date;
    draft?: boolean;
    fork?: boolean;
    labels?: string[];
  },
): PullRequestEvent {
  const examples = definitions.find((d) => d.name === "pull_request")?.examples ?? [];
  const base = examples.find((e) => e.action === action) ?? examples.find((e) => e.action === "opened");
  if (!base) throw new Error("no pull_request example");
  const payload = structuredClone(base) as PullRequestEvent;
  payload.action = action;
  payload.number = options.number;
  const pr = payload.pull_request;
  pr.number = options.number;
  pr.state = action === "closed" ? "closed" : "open";
  pr.draft = options.draft ?? false;
  pr.updated_at = options.updatedAt.toISOString().replace(/\.\d{3}Z$/, "Z");
  pr.closed_at = action === "closed" ? pr.updated_at : null;
  pr.merged = action === "closed";
  pr.head.sha = options.sha;
  pr.head.ref = `feature-${options.number}`;
  pr.head.repo = {
    ...(pr.head.repo ?? {}),
    full_name: options.fork ? `someone/fork-${options.number}` : options.repository,
    fork: !!options.fork,
  };
  pr.base.repo = { ...pr.base.repo, full_name: options.repository };
  pr.labels = (options.labels ?? []).map((name) => ({ name }));
  payload.repository = { ...payload.repository, full_name: options.repository };
  return payload;
}

export async function signedDelivery(secret: string, event: string, payload: unknown, delivery: string) {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": delivery,
      "x-hub-signature-256": await sign(secret, body),
    },
  };
}

/** A JSON request body as the fake received it (empty when there was none). */
export type RecordedBody = Record<string, unknown>;

export interface RecordedCall {
  method: string;
  path: string;
  auth: string | undefined;
  body: RecordedBody;
}

/** A GitHub REST API stand-in on loopback that records every call and answers like GitHub. */
export class FakeGithub {
  calls: RecordedCall[] = [];
  private server: Server | null = null;
  private nextId = 1000;
  private comments = new Map<string, Array<{ id: number; body: string }>>();
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        const body: RecordedBody = text ? JSON.parse(text) : {};
        const path = (req.url ?? "").split("?")[0] ?? "";
        this.calls.push({ method: req.method ?? "", path, auth: req.headers.authorization, body });
        const reply = (status: number, payload: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(payload));
        };
        if (req.method === "POST" && /^\/repos\/[^/]+\/[^/]+\/deployments$/.test(path))
          return reply(201, { id: this.nextId++ });
        if (req.method === "POST" && /\/deployments\/\d+\/statuses$/.test(path))
          return reply(201, { id: this.nextId++ });
        const issueComments = path.match(/^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/);
        if (issueComments) {
          const key = `${issueComments[1]}#${issueComments[2]}`;
          const list = this.comments.get(key) ?? [];
          if (req.method === "GET") return reply(200, list);
          const comment = { id: this.nextId++, body: String(body.body) };
          this.comments.set(key, [...list, comment]);
          return reply(201, comment);
        }
        const comment = path.match(/^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/);
        if (req.method === "PATCH" && comment) {
          for (const list of this.comments.values()) {
            const found = list.find((c) => c.id === Number(comment[1]));
            if (found) {
              found.body = String(body.body);
              return reply(200, found);
            }
          }
          return reply(404, { message: "Not Found" });
        }
        reply(404, { message: "Not Found" });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  commentsOn(repository: string, number: number) {
    return this.comments.get(`${repository}#${number}`) ?? [];
  }

  /** The deployment statuses reported so far, in order. */
  statusCalls(): RecordedCall[] {
    return this.calls.filter((c) => c.method === "POST" && c.path.endsWith("/statuses"));
  }

  statuses(): string[] {
    return this.statusCalls().map((c) => String(c.body.state));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
