import { describe, expect, it } from "vitest";
import { parseGithubEvent, WebhookPayloadError } from "../src/index.ts";
import { example, examplesOf } from "./examples.ts";

function pullRequest(action: string) {
  const parsed = parseGithubEvent("pull_request", example("pull_request", action));
  if (parsed.kind !== "pull_request") throw new Error(`expected pull_request, got ${parsed.kind}`);
  return parsed.payload;
}

describe("parseGithubEvent", () => {
  it("parses every published pull_request example", () => {
    for (const body of examplesOf("pull_request")) {
      expect(parseGithubEvent("pull_request", body).kind).toBe("pull_request");
    }
  });

  it("reads what edgeplane needs from an opened pull request", () => {
    const event = pullRequest("opened");
    expect(event.action).toBe("opened");
    expect(event.number).toBe(2);
    expect(event.repository.full_name).toBe("Codertocat/Hello-World");
    expect(event.pull_request).toMatchObject({
      number: 2,
      state: "open",
      draft: false,
      merged: false,
      updated_at: "2019-05-15T15:20:33Z",
      closed_at: null,
      head: {
        sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        ref: "changes",
        repo: { full_name: "Codertocat/Hello-World", fork: false },
      },
      base: { repo: { full_name: "Codertocat/Hello-World" } },
    });
  });

  it("skips the fields it does not model: accepted, not copied", () => {
    const event = pullRequest("synchronize");
    expect(Object.keys(event).sort()).toEqual(["action", "number", "pull_request", "repository"]);
    expect("html_url" in event.pull_request).toBe(false);
    expect(Object.keys(event.pull_request.base.repo)).toEqual(["full_name"]);
  });

  it("reads closed, labeled and draft pull requests", () => {
    const closed = pullRequest("closed");
    expect(closed.pull_request.state).toBe("closed");
    expect(closed.pull_request.closed_at).toBe("2019-05-15T15:21:18Z");

    const labeled = pullRequest("labeled");
    expect(labeled.label?.name).toBe("bug");
    expect(labeled.pull_request.labels.map((l) => l.name)).toEqual(["bug"]);

    expect(pullRequest("converted_to_draft").pull_request.draft).toBe(true);
  });

  it("accepts a head whose repository was deleted", () => {
    const body = example("pull_request", "opened");
    (body.pull_request as { head: { repo: unknown } }).head.repo = null;
    const parsed = parseGithubEvent("pull_request", body);
    expect(parsed.kind === "pull_request" && parsed.payload.pull_request.head.repo).toBeNull();
  });

  it("parses ping, with or without a repository", () => {
    const [withRepo, ...rest] = examplesOf("ping");
    const withoutRepo = rest.find((e) => e.repository === undefined);
    expect(parseGithubEvent("ping", withRepo)).toMatchObject({
      kind: "ping",
      payload: { zen: "Anything added dilutes everything else.", hook_id: 109948940 },
    });
    expect(withoutRepo).toBeDefined();
    expect(parseGithubEvent("ping", withoutRepo).kind).toBe("ping");
  });

  it("ignores events edgeplane does not act on, without looking at the body", () => {
    expect(parseGithubEvent("push", example("push"))).toEqual({ kind: "ignored", event: "push" });
    expect(parseGithubEvent("issues", "not even an object")).toEqual({ kind: "ignored", event: "issues" });
  });

  it("throws WebhookPayloadError for a malformed body of a known event", () => {
    const body = example("pull_request", "opened");
    (body.pull_request as { head: { sha: string } }).head.sha = "not-a-sha";
    delete (body as { repository?: unknown }).repository;

    let error: unknown;
    try {
      parseGithubEvent("pull_request", body);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WebhookPayloadError);
    const payloadError = error as WebhookPayloadError;
    expect(payloadError.event).toBe("pull_request");
    expect(payloadError.issues.map((i) => i.path).sort()).toEqual(["pull_request.head.sha", "repository"]);

    expect(() => parseGithubEvent("pull_request", null)).toThrow(WebhookPayloadError);
    expect(() => parseGithubEvent("ping", { zen: "hi" })).toThrow(WebhookPayloadError);
  });
});
