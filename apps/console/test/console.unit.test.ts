import { describe, expect, it } from "vitest";
import { age, elapsed, pullRequestUrl, shortDigest } from "../src/format.ts";
import { eventStreamParser } from "../src/sse.ts";

describe("the console's formatting", () => {
  it("shortens digests, says ages and elapsed times, links pull requests", () => {
    expect(shortDigest(`sha256:${"ab".repeat(32)}`)).toBe("sha256:abababababab");
    expect(shortDigest(null)).toBe("");
    const now = Date.parse("2025-01-02T00:00:00Z");
    expect(age("2025-01-01T23:59:30Z", now)).toBe("30s");
    expect(age("2025-01-01T23:55:00Z", now)).toBe("5m");
    expect(age("2025-01-01T21:00:00Z", now)).toBe("3h");
    expect(age("2024-12-30T00:00:00Z", now)).toBe("3d");
    expect(age(null, now)).toBe("");
    expect(elapsed("2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.420Z")).toBe("420ms");
    expect(elapsed("2025-01-01T00:00:00.000Z", "2025-01-01T00:00:04.250Z")).toBe("4.3s");
    expect(elapsed("2025-01-01T00:00:00Z", "2025-01-01T00:03:05Z")).toBe("3m 5s");
    expect(pullRequestUrl("acme/web", 1908)).toBe("https://github.com/acme/web/pull/1908");
  });
});

describe("the server-sent events parser", () => {
  it("yields each complete event, whatever the chunks, skipping comments", () => {
    const seen: Array<[string, string]> = [];
    const feed = eventStreamParser((event, data) => seen.push([event, data]));
    const stream =
      ': keep-alive\n\nid: 1\nevent: phase\ndata: {"phase":"queued"}\n\n' +
      'id: 2\r\nevent: phase\r\ndata: {"phase":"ready"}\r\n\r\n' +
      'event: end\ndata: {"id":"dep_1",\ndata: "status":"ready"}\n\ndata: plain\n\n';
    // one character at a time: every boundary falls inside a chunk once, \r\n split included
    for (const char of stream) feed(char);
    expect(seen).toEqual([
      ["phase", '{"phase":"queued"}'],
      ["phase", '{"phase":"ready"}'],
      ["end", '{"id":"dep_1",\n"status":"ready"}'],
      ["message", "plain"],
    ]);
  });
});
