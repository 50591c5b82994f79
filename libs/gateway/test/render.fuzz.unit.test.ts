import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayConfigError } from "../src/errors.ts";
import { type RenderOptions, type Route, renderNginxConfig } from "../src/render.ts";

const opts: RenderOptions = { dir: "/srv/edgeplane/gateway", listenHost: "127.0.0.1", listenPort: 8080 };
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const validHostname = (h: string) => h.length <= 253 && h.split(".").every((l) => LABEL.test(l));

// What an attacker would try to smuggle into a config line: directive ends, blocks, variables,
// regexes, new lines, includes, and everything else unicode has to offer.
const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom(
    "evil.test; include /etc/passwd",
    "a.test\n  location / { return 200; }",
    "$host",
    "~^(.*)$",
    "a.test}",
    "a..test",
    "-a.test",
    "A.TEST",
    "a.test ",
    "xn--bcher-kva.test\u0000",
    `${"a".repeat(64)}.test`,
    `${"a.".repeat(127)}test`,
  ),
);
const hostname = fc.oneof(
  hostile,
  fc.domain().map((d) => d.toLowerCase()),
  fc.constantFrom("pr-1.preview.test", "dev.x.y"),
);
const port = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.integer(), fc.double(), fc.constant(Number.NaN));
const environmentId = fc.oneof(fc.stringMatching(/^env_[0-9a-f]{1,20}$/), hostile);
const routes = fc.array(fc.record({ hostname, upstreamPort: port, environmentId }), { maxLength: 6 });

describe("renderNginxConfig under hostile input", () => {
  it("renders only routes that are entirely valid, and refuses anything else with GatewayConfigError", () => {
    fc.assert(
      fc.property(routes, (input) => {
        const valid =
          input.every(
            (r) =>
              validHostname(r.hostname) &&
              Number.isInteger(r.upstreamPort) &&
              r.upstreamPort >= 1 &&
              r.upstreamPort <= 65535 &&
              /^env_[0-9a-f]+$/.test(r.environmentId),
          ) && new Set(input.map((r) => r.hostname)).size === input.length;
        let text: string;
        try {
          text = renderNginxConfig(input as Route[], opts);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayConfigError);
          expect(valid).toBe(false);
          return;
        }
        expect(valid).toBe(true);
        // every server_name line names one of the routes (or the catch-all), nothing more
        const names = [...text.matchAll(/^\s*server_name (.*);$/gm)].map((m) => m[1]);
        for (const name of names) expect(name === "_" || input.some((r) => r.hostname === name)).toBe(true);
        for (const r of input) expect(text).toContain(`server_name ${r.hostname};`);
        // nothing outside the allow-lists can appear: no variables but the fixed header ones, no NUL
        expect(text).not.toContain("\u0000");
      }),
      { numRuns: 300 },
    );
  });

  it("the same routes always render the same bytes, whatever their order", () => {
    const valid = fc.uniqueArray(
      fc.record({
        hostname: fc
          .domain()
          .map((d) => d.toLowerCase())
          .filter(validHostname),
        upstreamPort: fc.integer({ min: 1, max: 65535 }),
        environmentId: fc.stringMatching(/^env_[0-9a-f]{1,20}$/),
      }),
      { selector: (r) => r.hostname, maxLength: 8 },
    );
    fc.assert(
      fc.property(valid, fc.func(fc.integer()), (input, order) => {
        const shuffled = [...input].sort((a, b) => order(a.hostname) - order(b.hostname));
        expect(renderNginxConfig(shuffled, opts)).toBe(renderNginxConfig(input, opts));
      }),
      { numRuns: 100 },
    );
  });
});
