import { describe, expect, it } from "vitest";
import { GatewayConfigError } from "../src/errors.ts";
import { mapSkeleton } from "../src/nginx.ts";
import { type RenderOptions, renderNginxConfig } from "../src/render.ts";
import type { Route } from "../src/route.ts";
import { handlerFor, locationOf, lookup, mapOf, servers, upstreamFor } from "./config.ts";

const opts: RenderOptions = { dir: "/srv/edgeplane/gateway", listenHost: "127.0.0.1", listenPort: 8080 };
const a: Route = { hostname: "pr-1.preview.example.com", upstreamPort: 32768, environmentId: "env_0a1b" };
const b: Route = { hostname: "dev.preview.example.com", upstreamPort: 32769, environmentId: "env_0c2d" };

const route = (override: Partial<Record<keyof Route, unknown>>) => ({ ...a, ...override }) as Route;
const rejects = (routes: Route[], options: RenderOptions = opts) =>
  expect(() => renderNginxConfig(routes, options)).toThrow(GatewayConfigError);
/** Where a host's requests go on plain HTTP: its handler and, if proxied, the upstream address. */
const served = (text: string, host: string) => ({
  handler: handlerFor(text, "http", host),
  upstream: upstreamFor(text, host),
});

describe("renderNginxConfig", () => {
  it("renders the same bytes for the same routes in any order", () => {
    expect(renderNginxConfig([a, b], opts)).toBe(renderNginxConfig([b, a], opts));
  });

  it("routes each host by map to its own environment's upstream, in one server for every host", () => {
    const text = renderNginxConfig([a, b], opts);
    expect(served(text, a.hostname)).toEqual({ handler: "@upstream", upstream: "127.0.0.1:32768" });
    expect(served(text, b.hostname)).toEqual({ handler: "@upstream", upstream: "127.0.0.1:32769" });
    expect(served(text, "pr-2.preview.example.com")).toEqual({ handler: "@unknown", upstream: undefined });
    // the maps look up the request's host, exact names only for routes
    expect(mapOf(text, "$edgeplane_http")?.source).toBe("$host");
    expect(mapOf(text, "$edgeplane_upstream")?.source).toBe("$host");
    // one server, whatever the number of routes; it proxies to the address the map gave
    const all = servers(text);
    expect(all).toHaveLength(1);
    expect(all[0]?.listen).toBe("127.0.0.1:8080 default_server");
    expect(locationOf(all[0]?.text ?? "", "/")).toEqual(["error_page 418 = $edgeplane_http;", "return 418;"]);
    expect(locationOf(all[0]?.text ?? "", "@upstream")).toEqual(["proxy_pass http://$edgeplane_upstream;"]);
    // the environment is named beside its host, for a reader
    expect(text).toContain(`    ${a.hostname} @upstream; # env_0a1b\n`);
  });

  it("logs requests an environment served, for sleep detection", () => {
    const text = renderNginxConfig([a], opts);
    expect(text).toContain(
      "    access_log /srv/edgeplane/gateway/activity.log edgeplane_activity buffer=16k flush=1s if=$edgeplane_http_activity;\n",
    );
    const activity = mapOf(text, "$edgeplane_http_activity");
    expect(activity && lookup(activity, "@upstream")).toBe("1");
    expect(activity && lookup(activity, "@unknown")).toBe("");
  });

  it("has the same structure with no environment, one, or several: a route change is only map entries", () => {
    // NginxGateway skips `nginx -t` for a config whose skeleton it validated: the first environment
    // routed (or the last one gone) must not cost a test on the deploy's critical path
    const empty = mapSkeleton(renderNginxConfig([], opts));
    expect(mapSkeleton(renderNginxConfig([a], opts))).toBe(empty);
    expect(mapSkeleton(renderNginxConfig([a, b], opts))).toBe(empty);
    expect(
      mapSkeleton(
        renderNginxConfig([{ ...a, sleeping: true }], { ...opts, controlUrl: "http://127.0.0.1:3000" }),
      ),
    ).toBe(mapSkeleton(renderNginxConfig([], { ...opts, controlUrl: "http://127.0.0.1:3000" })));
    const sites = { sites: [{ domain: "preview.example.com" }] };
    expect(mapSkeleton(renderNginxConfig([a], { ...opts, controlUrl: "http://127.0.0.1:3000" }, sites))).toBe(
      mapSkeleton(renderNginxConfig([], { ...opts, controlUrl: "http://127.0.0.1:3000" }, sites)),
    );
  });

  it("keeps every path nginx writes inside the dir and answers unknown hosts with 404", () => {
    const text = renderNginxConfig([], opts);
    expect(text).toContain("pid /srv/edgeplane/gateway/nginx.pid;");
    expect(text).toContain("error_log /srv/edgeplane/gateway/error.log warn;");
    for (const directive of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) {
      expect(text).toContain(`${directive}_temp_path /srv/edgeplane/gateway/temp/`);
    }
    expect(text).toContain("listen 127.0.0.1:8080 default_server;");
    expect(handlerFor(text, "http", "anything.test")).toBe("@unknown");
    expect(locationOf(servers(text)[0]?.text ?? "", "@unknown")).toEqual([
      'return 404 "no environment serves this host\\n";',
    ]);
    expect(text).not.toContain("daemon");
  });

  it("keeps the proxy headers, WebSocket upgrades and timeouts", () => {
    const text = renderNginxConfig([a], opts);
    for (const line of [
      "proxy_http_version 1.1;",
      "proxy_set_header Host $host;",
      "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
      "proxy_set_header X-Forwarded-Proto $scheme;",
      "proxy_set_header Upgrade $http_upgrade;",
      "proxy_set_header Connection $connection_upgrade;",
      "proxy_read_timeout 60s;",
      "proxy_request_buffering off;",
    ]) {
      expect(text).toContain(`  ${line}\n`);
    }
  });

  it("brackets IPv6 listen and upstream addresses", () => {
    const text = renderNginxConfig([route({ upstreamHost: "fd00::5" })], { ...opts, listenHost: "::1" });
    expect(text).toContain("listen [::1]:8080 default_server;");
    expect(served(text, a.hostname).upstream).toBe("[fd00::5]:32768");
  });

  it("escapes hostnames that a map would read as its own parameters", () => {
    const routes = ["default", "include", "hostnames", "volatile"].map((hostname, i) =>
      route({ hostname, upstreamPort: 40000 + i }),
    );
    const text = renderNginxConfig(routes, opts);
    expect(text).toContain("    \\default 127.0.0.1:40000;\n");
    expect(text).toContain("    \\include 127.0.0.1:40001;\n");
    expect(served(text, "default")).toEqual({ handler: "@upstream", upstream: "127.0.0.1:40000" });
    expect(mapOf(text, "$edgeplane_http")?.default).toBe("@unknown");
  });

  it.each([
    "a;b",
    "x.test\n}",
    "$host",
    "../",
    "..",
    "Upper.example.com",
    "~^(.*)$",
    "*.example.com",
    "\\default",
    "a b.test",
    "-a.test",
    "a-.test",
    "a..test",
    ".a.test",
    "a.test.",
    "",
    `${"a".repeat(64)}.test`,
    Array.from({ length: 5 }, () => "a".repeat(60)).join("."),
  ])("rejects hostname %j", (hostname) => {
    rejects([route({ hostname })]);
  });

  it("accepts the longest valid hostname, with hashes sized for it", () => {
    const hostname = [...Array.from({ length: 3 }, () => "a".repeat(63)), "b".repeat(61)].join(".");
    expect(hostname).toHaveLength(253);
    const text = renderNginxConfig([route({ hostname })], opts);
    expect(served(text, hostname)).toEqual({ handler: "@upstream", upstream: "127.0.0.1:32768" });
    // an entry takes 8 + align(253 + 2, 8) = 264 bytes, and a bucket needs room for several
    expect(Number(/map_hash_bucket_size (\d+);/.exec(text)?.[1])).toBeGreaterThanOrEqual(8 + 8 * 264);
  });

  it("sizes the map hashes for thousands of hosts", () => {
    const many = Array.from({ length: 5000 }, (_, i) => route({ hostname: `pr-${i}.preview.test` }));
    const text = renderNginxConfig(many, opts);
    expect(mapOf(text, "$edgeplane_http")?.entries.size).toBe(5000);
    expect(Number(/map_hash_max_size (\d+);/.exec(text)?.[1])).toBeGreaterThanOrEqual(2 * 5000);
    // map sizes are set before the first map, or nginx calls them duplicates
    expect(text.indexOf("map_hash_max_size")).toBeLessThan(text.indexOf("  map "));
  });

  it.each([0, 70000, 65536, -1, 80.5, Number.NaN, "8080", "80; include /etc/passwd"])(
    "rejects upstream port %j",
    (upstreamPort) => {
      rejects([route({ upstreamPort })]);
    },
  );

  it.each(["localhost", "10.0.0.1;", "fe80::1%eth0", "1.2.3.04", "10.0.0.1:80", "[::1]", ""])(
    "rejects upstream address %j",
    (upstreamHost) => {
      rejects([route({ upstreamHost })]);
    },
  );

  it.each(["", "env_", "env_XYZ", "env_0a;", "env_0a\n}", "dep_0a1b", "env_0a1b "])(
    "rejects environment id %j",
    (environmentId) => {
      rejects([route({ environmentId })]);
    },
  );

  it("rejects duplicate hostnames", () => {
    rejects([a, { ...b, hostname: a.hostname }]);
  });

  it("rejects unsafe options", () => {
    rejects([], { ...opts, dir: "relative/dir" });
    rejects([], { ...opts, dir: "/srv/gw; include /etc/passwd" });
    rejects([], { ...opts, dir: "/srv/../etc" });
    rejects([], { ...opts, listenHost: "localhost;" });
    rejects([], { ...opts, listenPort: 0 });
  });
});
