import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  decidePullRequest,
  environmentNameFor,
  isStale,
  type PreviewSettings,
  type PullRequestEvent,
  parseGithubEvent,
  type pullRequestEventSchema,
  renderPreviewImage,
  sanitizeTagPart,
  seenFrom,
} from "../src/index.ts";
import { example } from "./examples.ts";

const SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

const settings: PreviewSettings = {
  deployDrafts: false,
  requiredLabel: null,
  allowForks: false,
  previewImage: "ghcr.io/codertocat/hello-world:pr-{number}-{sha}",
};

/** A published example, optionally adjusted, parsed as edgeplane would parse it. */
type Body = z.input<typeof pullRequestEventSchema>;

function event(action: string, adjust: (body: Body) => void = () => {}): PullRequestEvent {
  const body = example("pull_request", action) as Body;
  adjust(body);
  const parsed = parseGithubEvent("pull_request", body);
  if (parsed.kind !== "pull_request") throw new Error("expected a pull_request event");
  return parsed.payload;
}

function headRepo(body: Body) {
  const repo = body.pull_request.head.repo;
  if (!repo) throw new Error("the published example has a head repository");
  return repo;
}

function fromFork(body: Body) {
  headRepo(body).full_name = "octocat/Hello-World";
  headRepo(body).fork = true;
}

describe("decidePullRequest", () => {
  it.each(["opened", "reopened", "synchronize", "ready_for_review"])("deploys on %s", (action) => {
    expect(decidePullRequest(event(action), settings)).toEqual({
      action: "ensure",
      environment: "pr-2",
      deploy: { image: `ghcr.io/codertocat/hello-world:pr-2-${SHA}` },
      reason: action,
    });
  });

  it("ensures the environment without an image when there is no template, waiting for CI", () => {
    expect(decidePullRequest(event("synchronize"), { ...settings, previewImage: null })).toEqual({
      action: "ensure",
      environment: "pr-2",
      deploy: null,
      reason: "synchronize",
    });
  });

  it("renders an image per compose service from previewImages", () => {
    const decision = decidePullRequest(event("opened"), {
      ...settings,
      previewImage: null,
      previewImages: { web: "ghcr.io/acme/web:sha-{sha}", api: "ghcr.io/acme/api:pr-{number}" },
    });
    expect(decision).toEqual({
      action: "ensure",
      environment: "pr-2",
      deploy: { images: { web: `ghcr.io/acme/web:sha-${SHA}`, api: "ghcr.io/acme/api:pr-2" } },
      reason: "opened",
    });
  });

  it("tears down on closed, whatever the settings", () => {
    const closed = event("closed", fromFork);
    expect(closed.pull_request.merged).toBe(false);
    expect(decidePullRequest(closed, { ...settings, requiredLabel: "preview" })).toEqual({
      action: "teardown",
      environment: "pr-2",
      reason: "closed",
    });
  });

  it("skips actions that do not change what runs", () => {
    for (const action of ["assigned", "edited", "locked", "unlabeled", "review_requested"]) {
      const decision = decidePullRequest(
        event("opened", (b) => (b.action = action)),
        settings,
      );
      expect(decision, action).toEqual({ action: "skip", reason: "unsupported-action" });
    }
  });

  describe("drafts", () => {
    const draft = (action: string) => event(action, (b) => (b.pull_request.draft = true));

    it("skips a draft unless drafts are deployed", () => {
      expect(decidePullRequest(draft("opened"), settings)).toEqual({ action: "skip", reason: "draft" });
      expect(decidePullRequest(draft("synchronize"), settings)).toEqual({ action: "skip", reason: "draft" });
      expect(decidePullRequest(draft("opened"), { ...settings, deployDrafts: true }).action).toBe("ensure");
    });

    it("deploys when a draft becomes ready for review", () => {
      const ready = event("ready_for_review");
      expect(ready.pull_request.draft).toBe(false);
      expect(decidePullRequest(ready, settings).action).toBe("ensure");
    });

    it("tears down on converted_to_draft (the published example) unless drafts are deployed", () => {
      expect(decidePullRequest(event("converted_to_draft"), settings)).toEqual({
        action: "teardown",
        environment: `pr-${event("converted_to_draft").number}`,
        reason: "converted-to-draft",
      });
      expect(decidePullRequest(event("converted_to_draft"), { ...settings, deployDrafts: true })).toEqual({
        action: "skip",
        reason: "unsupported-action",
      });
    });
  });

  describe("required label", () => {
    const labelled = { ...settings, requiredLabel: "bug" };

    it("skips a pull request without the label", () => {
      expect(decidePullRequest(event("opened"), { ...settings, requiredLabel: "preview" })).toEqual({
        action: "skip",
        reason: "missing-label",
      });
      const unlabelled = event("synchronize", (b) => (b.pull_request.labels = []));
      expect(decidePullRequest(unlabelled, labelled)).toEqual({ action: "skip", reason: "missing-label" });
    });

    it("deploys when the required label is added (the published labeled example)", () => {
      const labeled = event("labeled");
      expect(labeled.label?.name).toBe("bug");
      expect(decidePullRequest(labeled, labelled)).toMatchObject({ action: "ensure", reason: "labeled" });
      expect(decidePullRequest(event("synchronize"), labelled).action).toBe("ensure");
    });

    it("tears down when the required label is removed, and ignores other labels being removed", () => {
      const removed = event("unlabeled", (b) => {
        b.label = { name: "bug" };
        b.pull_request.labels = [];
      });
      expect(decidePullRequest(removed, labelled)).toMatchObject({
        action: "teardown",
        reason: "label-removed",
      });
      const other = event("unlabeled", (b) => {
        b.label = { name: "docs" };
      });
      expect(decidePullRequest(other, labelled)).toEqual({ action: "skip", reason: "unsupported-action" });
      expect(decidePullRequest(removed, settings)).toEqual({ action: "skip", reason: "unsupported-action" });
    });

    it("ignores any other label being added", () => {
      const other = event("labeled", (b) => {
        b.label = { name: "docs" };
        b.pull_request.labels = [...(b.pull_request.labels ?? []), { name: "docs" }];
      });
      expect(decidePullRequest(other, labelled)).toEqual({ action: "skip", reason: "unrelated-label" });
      expect(decidePullRequest(event("labeled"), settings)).toEqual({
        action: "skip",
        reason: "unrelated-label",
      });
    });
  });

  describe("forks", () => {
    it("treats a head from another repository, or a deleted one, as a fork", () => {
      const skip = { action: "skip", reason: "fork" };
      expect(decidePullRequest(event("opened", fromFork), settings)).toEqual(skip);
      expect(
        decidePullRequest(
          event("opened", (b) => (b.pull_request.head.repo = null)),
          settings,
        ),
      ).toEqual(skip);
      const renamedOnly = event("opened", (b) => (headRepo(b).full_name = "someone/else"));
      expect(decidePullRequest(renamedOnly, settings)).toEqual(skip);
    });

    it("deploys forks when allowed", () => {
      expect(decidePullRequest(event("opened", fromFork), { ...settings, allowForks: true }).action).toBe(
        "ensure",
      );
    });

    it("treats a branch of the base repository as no fork, even if that repository is itself a fork", () => {
      const sameRepo = event("opened", (b) => {
        headRepo(b).fork = true;
        (b.pull_request.base.repo as { fork?: boolean }).fork = true;
      });
      expect(decidePullRequest(sameRepo, settings).action).toBe("ensure");
    });
  });
});

describe("renderPreviewImage", () => {
  const vars = { number: 1908, sha: SHA, branch: "feature/Login page#2" };

  it("substitutes number, sha and branch", () => {
    expect(renderPreviewImage("ghcr.io/acme/web:pr-{number}", vars)).toBe("ghcr.io/acme/web:pr-1908");
    expect(renderPreviewImage("ghcr.io/acme/web:sha-{sha}", vars)).toBe(`ghcr.io/acme/web:sha-${SHA}`);
    expect(renderPreviewImage("ghcr.io/acme/web:{branch}", vars)).toBe(
      "ghcr.io/acme/web:feature-Login-page-2",
    );
    expect(renderPreviewImage("r/{number}:{number}-{other}", vars)).toBe("r/1908:1908-{other}");
  });

  it("keeps branch names within the OCI tag grammar", () => {
    const tag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
    for (const branch of [
      "main",
      "release/1.2.x",
      "-leading",
      ".hidden",
      "ünïcode✓",
      "a".repeat(300),
      "@{}",
    ]) {
      const sanitized = sanitizeTagPart(branch);
      expect(sanitized, branch).toMatch(tag);
    }
    expect(sanitizeTagPart("release/1.2.x")).toBe("release-1.2.x");
    expect(sanitizeTagPart("a".repeat(300))).toHaveLength(128);
  });
});

describe("environmentNameFor", () => {
  it("names preview environments after the pull request", () => {
    expect(environmentNameFor(1908)).toBe("pr-1908");
  });
});

describe("isStale", () => {
  const at = (iso: string) => (b: Body) => (b.pull_request.updated_at = iso);

  it("applies the first event seen", () => {
    expect(isStale(event("opened"), null)).toBe(false);
  });

  it("rejects an event older than the last applied one", () => {
    const labeled = event("labeled"); // 15:20:35
    const opened = event("opened"); // 15:20:33, delivered late
    expect(isStale(opened, seenFrom(labeled))).toBe(true);
    expect(isStale(labeled, seenFrom(opened))).toBe(false);
  });

  it("applies events with the same timestamp (idempotent)", () => {
    const opened = event("opened");
    expect(isStale(event("synchronize"), seenFrom(opened))).toBe(false);
  });

  it("rejects a late synchronize after the pull request was closed", () => {
    const closed = event("closed"); // 15:21:18
    const synchronize = event("synchronize"); // 15:20:33
    expect(isStale(synchronize, seenFrom(closed))).toBe(true);
    expect(isStale(event("synchronize", at("2019-05-15T15:21:18Z")), seenFrom(closed))).toBe(true);
    expect(isStale(event("labeled", at("2019-05-15T15:21:18Z")), seenFrom(closed))).toBe(true);
  });

  it("applies a reopen after the close, and a repeated close", () => {
    const closed = event("closed");
    expect(isStale(event("reopened", at("2019-05-15T15:22:00Z")), seenFrom(closed))).toBe(false);
    expect(isStale(event("closed"), seenFrom(closed))).toBe(false);
  });

  it("rejects a late close after a reopen", () => {
    const reopened = event("reopened", at("2019-05-15T15:22:00Z"));
    expect(isStale(event("closed"), seenFrom(reopened))).toBe(true);
  });
});
