import { describe, expect, it } from "vitest";
import { GatewayConfigError } from "../src/errors.ts";
import { type RenderOptions, renderNginxConfig } from "../src/render.ts";
import { handlerFor, locationOf, lookup, mapOf, servers, upstreamFor } from "./config.ts";

const opts: RenderOptions = {
  dir: "/srv/edgeplane/gateway",
  listenHost: "127.0.0.1",
  listenPort: 8080,
  controlUrl: "http://127.0.0.1:3000",
};
const route = {
  hostname: "pr-1.preview.test",
  upstreamHost: "10.213.0.5",
  upstreamPort: 8080,
  environmentId: "env_0a1b",
};
const open = { ...route, hostname: "staging.preview.test", upstreamPort: 8081, environmentId: "env_0c2d" };
const server = (text: string) => servers(text)[0]?.text ?? "";
/** Where a request from outside for one of the protection paths goes, on plain HTTP. */
const reserved = (text: string, host: string) => {
  const map = mapOf(text, "$edgeplane_http_reserved");
  const handler = handlerFor(text, "http", host);
  const value = map && lookup(map, handler);
  return value === "$edgeplane_http" ? handler : value; // the map's default: the host's handler
};

describe("renderNginxConfig for protected and sleeping environments", () => {
  it("asks the control plane before serving a protected host, and sends bypass links to it", () => {
    const text = renderNginxConfig([{ ...route, protect: true }, open], opts);
    expect(handlerFor(text, "http", route.hostname)).toBe("@upstream_protected");
    expect(upstreamFor(text, route.hostname)).toBe("10.213.0.5:8080");
    expect(locationOf(server(text), "@upstream_protected")).toEqual([
      "if ($arg_edgeplane_bypass) {",
      "rewrite ^ /.edgeplane/bypass last;",
      "}",
      "auth_request /.edgeplane/access;",
      "proxy_pass http://$edgeplane_upstream;",
    ]);
    const access = locationOf(server(text), "= /.edgeplane/access");
    expect(access).toContain("internal;");
    expect(access).toContain("proxy_pass http://127.0.0.1:3000/gateway/access;");
    expect(access).toContain("proxy_set_header X-Original-URI $request_uri;");
    expect(locationOf(server(text), "= /.edgeplane/bypass")).toContain(
      "proxy_pass http://127.0.0.1:3000/gateway/bypass;",
    );
  });

  it("leaves an unprotected host without any of it, even when another host is protected", () => {
    const text = renderNginxConfig([{ ...route, protect: true }, open], opts);
    expect(handlerFor(text, "http", open.hostname)).toBe("@upstream");
    expect(locationOf(server(text), "@upstream")).toEqual(["proxy_pass http://$edgeplane_upstream;"]);
    // its own /.edgeplane/access goes to it; a protected host's is a plain 404, as before
    expect(reserved(text, open.hostname)).toBe("@upstream");
    expect(reserved(text, route.hostname)).toBe("@reserved");
    expect(reserved(text, "unknown.test")).toBe("@unknown");
    expect(locationOf(server(text), "@reserved")).toEqual(["return 404;"]);
    expect(locationOf(server(text), "= /.edgeplane/access")).toContain(
      "error_page 404 = $edgeplane_http_reserved;",
    );

    const unprotected = renderNginxConfig([route], opts);
    expect(unprotected).not.toContain("auth_request");
    expect(unprotected).not.toContain("3000/gateway/");
  });

  it("protects a protected project's status pages", () => {
    const text = renderNginxConfig([], opts, { sites: [{ domain: "preview.test", protect: true }] });
    expect(handlerFor(text, "http", "pr-9.preview.test")).toBe("@status_protected");
    expect(locationOf(server(text), "@status_protected")).toEqual([
      "if ($arg_edgeplane_bypass) {",
      "rewrite ^ /.edgeplane/bypass last;",
      "}",
      "auth_request /.edgeplane/access;",
      "rewrite ^ /pages/status break;",
      "proxy_pass http://127.0.0.1:3000;",
    ]);
  });

  it("sends a sleeping environment's requests to the waker, and logs them as activity", () => {
    const text = renderNginxConfig([{ ...route, sleeping: true }], opts);
    expect(handlerFor(text, "http", route.hostname)).toBe("@waker");
    expect(locationOf(server(text), "@waker")).toEqual([
      "rewrite ^ /gateway/wake$uri break;",
      "proxy_pass http://127.0.0.1:3000;",
      "proxy_read_timeout 120s;",
    ]);
    const activity = mapOf(text, "$edgeplane_http_activity");
    expect(activity && lookup(activity, "@waker")).toBe("1");
    expect(text).toContain("edgeplane_activity buffer=16k flush=1s if=$edgeplane_http_activity;\n");
    expect(upstreamFor(text, route.hostname)).toBeUndefined();
    expect(text).not.toContain("10.213.0.5");

    const both = renderNginxConfig([{ ...route, sleeping: true, protect: true }], opts);
    expect(handlerFor(both, "http", route.hostname)).toBe("@waker_protected");
    expect(locationOf(server(both), "@waker_protected")).toContain("auth_request /.edgeplane/access;");
  });

  it("refuses either without the control plane's URL", () => {
    const { controlUrl: _, ...without } = opts;
    expect(() => renderNginxConfig([{ ...route, protect: true }], without)).toThrow(GatewayConfigError);
    expect(() => renderNginxConfig([{ ...route, sleeping: true }], without)).toThrow(GatewayConfigError);
  });
});
