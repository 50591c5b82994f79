import { describe, expect, it } from "vitest";
import { GatewayConfigError } from "../src/errors.ts";
import { type RenderOptions, type Route, renderNginxConfig } from "../src/render.ts";

const opts: RenderOptions = { dir: "/srv/edgeplane/gateway", listenHost: "127.0.0.1", listenPort: 8080 };
const a: Route = { hostname: "pr-1.preview.example.com", upstreamPort: 32768, environmentId: "env_0a1b" };
const b: Route = { hostname: "dev.preview.example.com", upstreamPort: 32769, environmentId: "env_0c2d" };

const route = (override: Partial<Record<keyof Route, unknown>>) => ({ ...a, ...override }) as Route;
const rejects = (routes: Route[], options: RenderOptions = opts) =>
  expect(() => renderNginxConfig(routes, options)).toThrow(GatewayConfigError);

describe("renderNginxConfig", () => {
  it("renders the same bytes for the same routes in any order", () => {
    expect(renderNginxConfig([a, b], opts)).toBe(renderNginxConfig([b, a], opts));
  });

  it("renders one server per route, sorted by hostname, with the environment id", () => {
    const text = renderNginxConfig([a, b], opts);
    expect(text.indexOf("server_name dev.preview.example.com;")).toBeLessThan(
      text.indexOf("server_name pr-1.preview.example.com;"),
    );
    expect(text).toContain(
      "  # environment env_0a1b\n  server {\n    listen 127.0.0.1:8080;\n    server_name pr-1.preview.example.com;\n" +
        "    access_log /srv/edgeplane/gateway/activity.log edgeplane_activity buffer=16k flush=1s;\n" +
        "    location / {\n      proxy_pass http://127.0.0.1:32768;\n    }\n  }\n",
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
    expect(text).toContain('return 404 "no environment serves this host\\n";');
    expect(text).not.toContain("daemon");
  });

  it("brackets an IPv6 listen address", () => {
    expect(renderNginxConfig([a], { ...opts, listenHost: "::1" })).toContain("listen [::1]:8080;");
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

  it("accepts the longest valid hostname", () => {
    const hostname = [...Array.from({ length: 3 }, () => "a".repeat(63)), "b".repeat(61)].join(".");
    expect(hostname).toHaveLength(253);
    expect(renderNginxConfig([route({ hostname })], opts)).toContain(`server_name ${hostname};`);
  });

  it.each([0, 70000, 65536, -1, 80.5, Number.NaN, "8080", "80; include /etc/passwd"])(
    "rejects upstream port %j",
    (upstreamPort) => {
      rejects([route({ upstreamPort })]);
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
