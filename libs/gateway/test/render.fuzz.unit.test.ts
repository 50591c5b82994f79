import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayConfigError } from "../src/errors.ts";
import { type RenderOptions, renderNginxConfig } from "../src/render.ts";
import type { Route } from "../src/route.ts";
import { handlerFor, mapOf, servers, upstreamFor } from "./config.ts";

const opts: RenderOptions = { dir: "/srv/edgeplane/gateway", listenHost: "127.0.0.1", listenPort: 8080 };

// The oracles, written from the rules rather than from the code under test.
const isLowerOrDigit = (c: string) => (c >= "a" && c <= "z") || (c >= "0" && c <= "9");
/** RFC 1123 label: 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'. */
function isDnsLabel(label: string): boolean {
  if (label.length < 1 || label.length > 63) return false;
  if (label.startsWith("-") || label.endsWith("-")) return false;
  return [...label].every((c) => isLowerOrDigit(c) || c === "-");
}
/** A host name: labels joined by dots, 253 characters at most. */
const validHostname = (h: string) => h.length >= 1 && h.length <= 253 && h.split(".").every(isDnsLabel);
/** An environment id: `env_` then one or more lowercase hex digits. */
const validEnvironmentId = (id: string) =>
  id.startsWith("env_") &&
  id.length > 4 &&
  [...id.slice(4)].every((c) => (c >= "0" && c <= "9") || (c >= "a" && c <= "f"));
/** An upstream address: an IP literal without an IPv6 zone (nginx refuses those). */
const validUpstreamHost = (h: string) => isIP(h) !== 0 && !h.includes("%");
/**
 * The nginx variables a config without certificates or sites may use: the fixed proxy headers, the
 * WebSocket upgrade map, and the map naming each host's handler. Routes add the upstream and
 * activity maps; none adds a variable of its own.
 */
const HEADER_VARIABLES = [
  "$connection_upgrade",
  "$edgeplane_http",
  "$host",
  "$http_upgrade",
  "$msec",
  "$proxy_add_x_forwarded_for",
  "$remote_addr",
  "$scheme",
];
/** Rendered whatever the routes: a route changes map entries, never the config's structure. */
const ROUTE_VARIABLES = ["$edgeplane_http_activity", "$edgeplane_upstream"];

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
const upstreamHost = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  hostile,
  fc.constantFrom("fe80::1%eth0", "::ffff:10.0.0.1", "10.0.0.1]:80; include x; #", "[::1]"),
);
const routes = fc.array(
  fc.record(
    { hostname, upstreamHost, upstreamPort: port, environmentId },
    { requiredKeys: ["hostname", "upstreamPort", "environmentId"] },
  ),
  { maxLength: 6 },
);

describe("renderNginxConfig under hostile input", () => {
  it("the oracles tell valid names and ids from invalid ones", () => {
    for (const ok of ["a.test", "pr-1.preview.test", `${"a".repeat(63)}.test`, "x1-2.y"])
      expect(validHostname(ok)).toBe(true);
    for (const bad of [
      "",
      "a..b",
      "-a.test",
      "a-.test",
      "A.TEST",
      "a.test ",
      "a_b.test",
      `${"a".repeat(64)}.test`,
    ])
      expect(validHostname(bad)).toBe(false);
    expect(validHostname(`${"a.".repeat(126)}a`)).toBe(true); // 253 characters
    expect(validHostname(`${"a.".repeat(126)}ab`)).toBe(false); // 254 characters
    for (const ok of ["env_0", "env_0a1b2c"]) expect(validEnvironmentId(ok)).toBe(true);
    for (const bad of ["env_", "env_0A", "env_g", "prj_0a", " env_0", "env_0\n"])
      expect(validEnvironmentId(bad)).toBe(false);
  });

  it("renders only routes that are entirely valid, each proxied to its own address, with no variable or line a route smuggled in; refuses anything else with GatewayConfigError", () => {
    fc.assert(
      fc.property(routes, (input) => {
        const valid =
          input.every(
            (r) =>
              validHostname(r.hostname) &&
              (r.upstreamHost === undefined || validUpstreamHost(r.upstreamHost)) &&
              Number.isInteger(r.upstreamPort) &&
              r.upstreamPort >= 1 &&
              r.upstreamPort <= 65535 &&
              validEnvironmentId(r.environmentId),
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
        // the host maps hold the routes' hostnames and nothing more
        expect([...(mapOf(text, "$edgeplane_http")?.entries.keys() ?? [])].sort()).toEqual(
          input.map((r) => r.hostname).sort(),
        );
        // each route is served by the proxy handler, to its own address and nothing else
        for (const r of input) {
          const host = r.upstreamHost ?? "127.0.0.1";
          expect(handlerFor(text, "http", r.hostname)).toBe("@upstream");
          expect(upstreamFor(text, r.hostname)).toBe(
            `${host.includes(":") ? `[${host}]` : host}:${r.upstreamPort}`,
          );
          expect(text).toContain(` @upstream; # ${r.environmentId}\n`);
        }
        // one server for every host, whatever the routes
        expect(servers(text)).toHaveLength(1);
        // nothing outside the allow-lists can appear: no variables but the fixed ones
        expect([...new Set(text.match(/\$[A-Za-z0-9_]+/g) ?? [])].sort()).toEqual(
          [...HEADER_VARIABLES, ...ROUTE_VARIABLES].sort(),
        );
        // every line is a comment, a directive ended by ';' (a map entry may name its environment
        // after it), or a block opening or closing, as in an empty config: no value started a line, a
        // block or a directive of its own
        for (const line of text.split("\n")) {
          const trimmed = line.trim();
          if (trimmed === "" || trimmed.startsWith("#")) continue;
          expect(trimmed, line).toMatch(/(;|\{|\}|; # env_[0-9a-f]+)$/);
        }
        expect(text.split("{").length).toBe(text.split("}").length);
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
