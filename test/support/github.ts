import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { sign } from "@octokit/webhooks-methods";

interface WebhookDefinition {
  name: string;
  examples: Record<string, any>[];
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
): Record<string, any> {
  const examples = definitions.find((d) => d.name === "pull_request")?.examples ?? [];
  const base = examples.find((e) => e.action === action) ?? examples.find((e) => e.action === "opened");
  if (!base) throw new Error("no pull_request example");
  const payload = structuredClone(base);
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

export interface RecordedCall {
  method: string;
  path: string;
  auth: string | undefined;
  body: any;
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
        const body = text ? JSON.parse(text) : null;
        const path = (req.url ?? "").split("?")[0] ?? "";
        this.calls.push({ method: req.method ?? "", path, auth: req.headers.authorization, body });
        const reply = (status: number, payload: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(payload));
        };
        let m: RegExpMatchArray | null;
        if (req.method === "POST" && /^\/repos\/[^/]+\/[^/]+\/deployments$/.test(path))
          return reply(201, { id: this.nextId++ });
        if (req.method === "POST" && /\/deployments\/\d+\/statuses$/.test(path))
          return reply(201, { id: this.nextId++ });
        if ((m = path.match(/^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/))) {
          const key = `${m[1]}#${m[2]}`;
          const list = this.comments.get(key) ?? [];
          if (req.method === "GET") return reply(200, list);
          const comment = { id: this.nextId++, body: body.body };
          this.comments.set(key, [...list, comment]);
          return reply(201, comment);
        }
        if (req.method === "PATCH" && (m = path.match(/^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/))) {
          for (const list of this.comments.values()) {
            const found = list.find((c) => c.id === Number(m?.[1]));
            if (found) {
              found.body = body.body;
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

  statuses(): string[] {
    return this.calls.filter((c) => c.path.endsWith("/statuses")).map((c) => c.body.state);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
