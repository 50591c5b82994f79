import { describe, expect, it } from "vitest";
import { GatewayConfigError } from "../src/errors.ts";
import { type RenderOptions, type Route, renderNginxConfig } from "../src/render.ts";
import { controlUpstream, type GatewayExtras } from "../src/sites.ts";

const opts: RenderOptions = {
  dir: "/srv/edgeplane/gateway",
  listenHost: "127.0.0.1",
  listenPort: 8080,
  httpsPort: 8443,
  controlUrl: "http://127.0.0.1:3000",
};
const plain: Route = { hostname: "pr-1.preview.test", upstreamPort: 32768, environmentId: "env_0a1b" };
const secure: Route = { ...plain, certificate: "_wildcard.preview.test" };
const sites: GatewayExtras = { sites: [{ domain: "preview.test", certificate: "_wildcard.preview.test" }] };
const token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
const keyAuthorization = `${token}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

const rejects = (routes: Route[], extras: GatewayExtras, options: RenderOptions = opts) =>
  expect(() => renderNginxConfig(routes, options, extras)).toThrow(GatewayConfigError);

describe("renderNginxConfig with TLS, sites and ACME answers", () => {
  it("serves a route with a certificate over HTTPS and redirects its HTTP, except the ACME path", () => {
    const text = renderNginxConfig([secure], opts, sites);
    expect(text).toContain(
      "  server {\n    listen 127.0.0.1:8080;\n    server_name pr-1.preview.test;\n" +
        "    location ^~ /.well-known/acme-challenge/ {\n",
    );
    expect(text).toContain("    location / {\n      return 308 https://$host:8443$request_uri;\n    }\n");
    expect(text).toContain(
      "  server {\n    listen 127.0.0.1:8443 ssl;\n    server_name pr-1.preview.test;\n" +
        "    ssl_certificate /srv/edgeplane/gateway/certs/_wildcard.preview.test.crt;\n" +
        "    ssl_certificate_key /srv/edgeplane/gateway/certs/_wildcard.preview.test.key;\n" +
        "    access_log /srv/edgeplane/gateway/activity.log edgeplane_activity buffer=16k flush=1s;\n" +
        "    location / {\n      proxy_pass http://127.0.0.1:32768;\n    }\n  }\n",
    );
    // names without a certificate get no handshake at all
    expect(text).toContain(
      "    listen 127.0.0.1:8443 ssl default_server;\n    server_name _;\n    ssl_reject_handshake on;\n",
    );
  });

  it("sends hosts under a site without a route to the control plane's status page, on both ports", () => {
    const text = renderNginxConfig([], opts, sites);
    expect(text).toContain("    server_name *.preview.test;\n");
    expect(text).toContain(
      "    location / {\n      rewrite ^ /pages/status break;\n      proxy_pass http://127.0.0.1:3000;\n    }\n",
    );
    expect(text.match(/server_name \*\.preview\.test;/g)).toHaveLength(2);
    // without a certificate, the site stays on HTTP and nothing listens on the HTTPS port
    const http = renderNginxConfig([plain], opts, { sites: [{ domain: "preview.test" }] });
    expect(http).not.toContain("8443");
    expect(http).not.toContain("return 308");
    expect(http.match(/rewrite \^ \/pages\/status break;/g)).toHaveLength(1);
  });

  it("answers HTTP-01 challenges from a map, and nothing else under that path", () => {
    const text = renderNginxConfig([plain], opts, {
      sites: [{ domain: "preview.test" }],
      challenges: [{ token, keyAuthorization }],
    });
    expect(text).toContain(`    "/.well-known/acme-challenge/${token}" "${keyAuthorization}";\n`);
    expect(text).toContain(
      '      if ($edgeplane_acme_answer = "") {\n        return 404;\n      }\n      return 200 $edgeplane_acme_answer;\n',
    );
    // map_hash_bucket_size must come before the first map, or nginx calls it a duplicate
    expect(text.indexOf("map_hash_bucket_size 256;")).toBeLessThan(text.indexOf("map $http_upgrade"));
  });

  it("leaves a config without sites or certificates as it was", () => {
    const text = renderNginxConfig([plain], opts);
    expect(text).not.toContain("ssl");
    expect(text).not.toContain("acme");
    expect(text).toContain(
      "    server_name pr-1.preview.test;\n    access_log /srv/edgeplane/gateway/activity.log edgeplane_activity buffer=16k flush=1s;\n    location / {\n      proxy_pass http://127.0.0.1:32768;\n    }\n",
    );
  });

  it("renders the same bytes for the same state in any order", () => {
    const extras = (order: 1 | -1): GatewayExtras => ({
      sites: [{ domain: "a.test" }, { domain: "preview.test", certificate: "_wildcard.preview.test" }].sort(
        () => order,
      ),
      challenges: [
        { token: "t1", keyAuthorization: "t1.x" },
        { token: "t2", keyAuthorization: "t2.x" },
      ].sort(() => order),
    });
    expect(renderNginxConfig([secure], opts, extras(1))).toBe(renderNginxConfig([secure], opts, extras(-1)));
  });

  it.each([
    "../etc/passwd",
    "_wildcard..test",
    "a b",
    "x;y",
    "*.preview.test",
    "Upper.test",
    "_wildcard.$host",
  ])("rejects certificate name %j", (certificate) => {
    rejects([{ ...plain, certificate }], {});
    rejects([], { sites: [{ domain: "preview.test", certificate }] });
  });

  it.each([
    { token: "a;b", keyAuthorization: "a.b" },
    { token: "abc", keyAuthorization: 'abc"; }' },
    { token: "abc", keyAuthorization: "no-dot" },
    { token: "", keyAuthorization: "x.y" },
  ])("rejects ACME answer %j", (challenge) => {
    rejects([], { sites: [{ domain: "preview.test" }], challenges: [challenge] });
  });

  it("rejects what cannot work", () => {
    rejects([secure], {}, { ...opts, httpsPort: undefined });
    rejects([], { sites: [{ domain: "preview.test" }] }, { ...opts, controlUrl: undefined });
    rejects([], { sites: [{ domain: "test" }] });
    rejects([], { sites: [{ domain: "preview.test" }, { domain: "preview.test" }] });
    rejects([], { sites: [{ domain: "a;b.test" }] });
  });

  it("takes the control URL as an IP origin only", () => {
    expect(controlUpstream("http://127.0.0.1:3000")).toBe("127.0.0.1:3000");
    expect(controlUpstream("http://[::1]:3000/")).toBe("[::1]:3000");
    expect(controlUpstream("http://10.0.0.7")).toBe("10.0.0.7:80");
    for (const bad of [
      "http://localhost:3000",
      "https://127.0.0.1:3000",
      "http://127.0.0.1:3000/x",
      "nonsense",
      "http://u:p@127.0.0.1:1",
    ]) {
      expect(() => controlUpstream(bad), bad).toThrow(GatewayConfigError);
    }
  });
});
