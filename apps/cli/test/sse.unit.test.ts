import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { plainProgress, spinnerProgress } from "../src/progress.ts";
import { parseServerSentEvents } from "../src/sse.ts";

async function parse(chunks: string[]) {
  const encoder = new TextEncoder();
  const body = (async function* () {
    for (const chunk of chunks) yield encoder.encode(chunk);
  })();
  const events = [];
  for await (const event of parseServerSentEvents(body)) events.push(event);
  return events;
}

// The client side of GET /v1/deployments/:id/events, against streams written by hand from the
// HTML standard's rules, cut at every awkward place.
describe("parseServerSentEvents", () => {
  it("reads events as the API writes them", async () => {
    expect(
      await parse([
        'id: 7\nevent: phase\ndata: {"phase":"queued"}\n\n',
        ": keep-alive\n\n",
        'event: end\ndata: {"status":"ready"}\n\n',
      ]),
    ).toEqual([
      { id: "7", event: "phase", data: '{"phase":"queued"}' },
      { event: "end", data: '{"status":"ready"}' },
    ]);
  });

  it("joins data lines, takes CRLF and CR line ends, and finds events cut anywhere", async () => {
    const stream = "id: 1\r\nevent: phase\r\ndata: a\r\ndata: b\r\n\r\ndata:no space\r\rdata: é\n\n";
    const expected = [
      { id: "1", event: "phase", data: "a\nb" },
      { event: "message", data: "no space" },
      { event: "message", data: "é" },
    ];
    expect(await parse([stream])).toEqual(expected);
    const bytes = new TextEncoder().encode(stream);
    for (let cut = 1; cut < bytes.length; cut++) {
      const decoder = new TextDecoder();
      const halves = [bytes.slice(0, cut), bytes.slice(cut)];
      const events = [];
      for await (const event of parseServerSentEvents(
        (async function* () {
          yield* halves;
        })(),
      ))
        events.push(event);
      expect(events, `cut at ${cut}: ${JSON.stringify(decoder.decode(halves[0]))}`).toEqual(expected);
    }
  });

  it("drops an event cut off by the end of the stream, and events without data", async () => {
    expect(await parse(["event: end\n\n", "id: 3\ndata: half"])).toEqual([]);
  });
});

describe("plain progress", () => {
  it("prints each phase with the time since the deployment was queued, and the URL when ready", () => {
    const lines: string[] = [];
    const progress = plainProgress(Date.parse("2025-01-01T00:00:00.000Z"), (text) => lines.push(text));
    progress.phase({ phase: "queued", message: null, at: "2025-01-01T00:00:00.000Z", status: "queued" });
    progress.phase({
      phase: "staging",
      message: "waiting for image",
      at: "2025-01-01T00:00:00.240Z",
      status: "staging",
    });
    progress.phase({ phase: "ready", message: null, at: "2025-01-01T00:00:03.051Z", status: "ready" });
    progress.end({ status: "ready", url: "http://pr-1.preview.test:8080" } as never);
    expect(lines.join("")).toBe(
      "queued +0.0s\nstaging +0.2s  waiting for image\nready +3.1s\nhttp://pr-1.preview.test:8080\n",
    );
  });
});

describe("spinner progress", () => {
  it("keeps each finished phase as a line with its time, then the result and the URL", async () => {
    const ora = (await import("ora")).default; // loaded by the deploy command for a terminal only
    const out = new PassThrough();
    const written: string[] = [];
    out.on("data", (chunk: Buffer) => written.push(chunk.toString()));
    const terminal = Object.assign(out, {
      isTTY: true,
      columns: 80,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const now = Date.now();
    const at = (ms: number) => new Date(now - 2000 + ms).toISOString();
    const progress = spinnerProgress(now - 2000, terminal as unknown as NodeJS.WriteStream, ora);
    progress.phase({ phase: "queued", message: null, at: at(0), status: "queued" });
    progress.phase({ phase: "staging", message: null, at: at(400), status: "staging" });
    progress.phase({ phase: "ready", message: null, at: at(1500), status: "ready" });
    progress.end({
      status: "ready",
      url: "http://pr-1.preview.test:8080",
      phases: { ready: at(1500) },
    } as never);
    const text = written.join("");
    expect(text).toMatch(/✔ queued \d+\.\ds/);
    expect(text).toMatch(/✔ staging \d+\.\ds/);
    expect(text).toContain("✔ ready after 1.5s\nhttp://pr-1.preview.test:8080\n");
  });
});
