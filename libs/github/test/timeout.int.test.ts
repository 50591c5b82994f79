import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GithubApiError, GithubStatusClient } from "../src/index.ts";

// A GitHub stand-in that accepts every connection and then never answers (or stops halfway through
// its answer): each call must fail within the client's deadline with an error saying what timed out.
describe("GitHub REST calls have a deadline", () => {
  let server: Server;
  let baseUrl = "";
  const sockets = new Set<Socket>();
  const stalled: ServerResponse[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      stalled.push(res);
      if (req.url?.includes("/comments")) {
        // headers, then a body that never ends
        res.writeHead(200, { "content-type": "application/json" });
        res.write("[");
      }
    });
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const client = () => new GithubStatusClient({ baseUrl, token: "ghs_deadline-test-token", timeoutMs: 300 });

  async function timing(call: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
    const started = Date.now();
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, ms: Date.now() - started };
  }

  it("a request that is never answered", async () => {
    const { error, ms } = await timing(
      client().createDeployment({
        owner: "acme",
        repo: "web",
        ref: "main",
        environment: "pr-1",
        description: "preview",
      }),
    );
    expect(ms).toBeLessThan(3000);
    expect(error).toBeInstanceOf(GithubApiError);
    expect((error as GithubApiError).message).toBe(
      "GitHub POST /repos/acme/web/deployments timed out: no answer within 300 ms",
    );
    expect((error as GithubApiError).status).toBe(0);
  });

  it("an answer whose body never ends", async () => {
    const { error, ms } = await timing(client().upsertStickyComment("acme", "web", 7, "hello"));
    expect(ms).toBeLessThan(3000);
    expect(error).toBeInstanceOf(GithubApiError);
    expect((error as GithubApiError).message).toBe(
      "GitHub GET /repos/acme/web/issues/7/comments timed out: no answer within 300 ms",
    );
  });
});
