import { describe, expect, it } from "vitest";
import { escapeHtml, renderStatusPage, type StatusPageState } from "../src/index.ts";

const deploying: StatusPageState = {
  state: "deploying",
  environment: "pr-1908",
  project: "acme-web",
  phase: "starting",
  since: "2030-01-01T12:00:00Z",
  url: "https://pr-1908.preview.test/",
};
const failed: StatusPageState = {
  state: "failed",
  environment: "pr-7",
  project: "acme-web",
  reason: "health check /healthz returned 500",
  failedAt: "2030-01-01T12:05:00Z",
};
const destroyed: StatusPageState = {
  state: "destroyed",
  environment: "pr-3",
  project: "acme-web",
  destroyedAt: "2030-01-02T00:00:00Z",
};
const unknown: StatusPageState = { state: "unknown", hostname: "pr-404.preview.test" };

const refresh = '<meta http-equiv="refresh"';

describe("status page", () => {
  it("says a deploying environment is on its way, refreshes, and asks to retry", () => {
    const page = renderStatusPage(deploying);
    expect(page.status).toBe(503);
    expect(page.headers["retry-after"]).toBe("3");
    expect(page.html).toContain(`${refresh} content="3">`);
    expect(page.html).toContain("pr-1908 is deploying");
    expect(page.html).toContain("acme-web");
    expect(page.html).toContain('<li aria-current="step">Starting the container');
    expect(page.html).toContain('<li class="done">Staging the image');
    expect(page.html).toContain('<a href="https://pr-1908.preview.test/">');
    expect(page.html).toContain('<time datetime="2030-01-01T12:00:00Z">2030-01-01 12:00:00 UTC</time>');
    expect(page.json).toMatchObject({ ...deploying, retryAfterSeconds: 3 });
    expect(page.json.message).toContain("starting the container");
  });

  it("says a failed deployment failed, and why", () => {
    const page = renderStatusPage(failed);
    expect(page.status).toBe(502);
    expect(page.html).toContain("pr-7 failed to deploy");
    expect(page.html).toContain("<pre>health check /healthz returned 500</pre>");
    expect(page.json).toMatchObject(failed);
    expect(page.json.message).toContain("health check /healthz returned 500");
  });

  it("says a destroyed environment is gone", () => {
    const page = renderStatusPage(destroyed);
    expect(page.status).toBe(410);
    expect(page.html).toContain("pr-3 no longer exists");
    expect(page.json).toMatchObject(destroyed);
  });

  it("says there is nothing at an unknown host", () => {
    const page = renderStatusPage(unknown);
    expect(page.status).toBe(404);
    expect(page.html).toContain("No environment here");
    expect(page.html).toContain("pr-404.preview.test");
    expect(page.json).toMatchObject(unknown);
  });

  it("refreshes only while deploying", () => {
    for (const state of [failed, destroyed, unknown]) {
      const page = renderStatusPage(state);
      expect(page.html).not.toContain(refresh);
      expect(page.headers["retry-after"]).toBeUndefined();
      expect(page.json).not.toHaveProperty("retryAfterSeconds");
    }
  });

  it("is a self-contained, accessible document", () => {
    for (const state of [deploying, failed, destroyed, unknown]) {
      const { html, headers } = renderStatusPage(state);
      expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
      expect(html).toContain('<meta charset="utf-8">');
      expect(html).toMatch(/<title>[^<]+<\/title>/);
      expect(html).toMatch(/<main>\n<h1>/);
      expect(html).not.toMatch(/<link|<script|<img|src=|url\(/);
      expect(headers["cache-control"]).toBe("no-store");
    }
  });

  it("escapes every interpolated value", () => {
    const hostile = `<script>alert("x")</script> & 'y'`;
    const pages = [
      renderStatusPage({
        ...deploying,
        environment: hostile,
        project: hostile,
        url: `https://a.test/?q="><script>`,
      }),
      renderStatusPage({ ...failed, environment: hostile, project: hostile, reason: hostile }),
      renderStatusPage({ ...destroyed, environment: hostile, project: hostile }),
      renderStatusPage({ state: "unknown", hostname: hostile }),
    ];
    for (const page of pages) {
      expect(page.html).not.toContain("<script");
      expect(page.html).not.toContain(`"x"`);
      expect(page.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
    }
    expect(pages[0]?.json.state === "deploying" && pages[0].json.environment).toBe(hostile);
  });

  it("refuses malformed states", () => {
    expect(() => renderStatusPage({ ...deploying, url: "javascript:alert(1)" })).toThrow();
    expect(() => renderStatusPage({ ...deploying, since: "yesterday" })).toThrow();
    expect(() => renderStatusPage({ ...deploying, phase: "ready" } as unknown as StatusPageState)).toThrow();
    expect(() => renderStatusPage({ state: "sleeping" } as unknown as StatusPageState)).toThrow();
  });
});

describe("escapeHtml", () => {
  it("escapes the five significant characters and nothing else", () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a> ünïcode`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt; ünïcode",
    );
  });
});
