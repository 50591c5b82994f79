import { describe, expect, it } from "vitest";
import { GatewayConfigError } from "../src/errors.ts";
import { type RenderOptions, renderNginxConfig } from "../src/render.ts";
import type { Route } from "../src/route.ts";
import { controlUpstream, type GatewayExtras } from "../src/sites.ts";
import { handlerFor, locationOf, lookup, mapOf, serverFor, servers, upstreamFor } from "./config.ts";

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
const certs = "/srv/edgeplane/gateway/certs";

const rejects = (routes: Route[], extras: GatewayExtras, options: RenderOptions = opts) =>
  expect(() => renderNginxConfig(routes, options, extras)).toThrow(GatewayConfigError);
/** The certificate SNI would pick for a name: the server found by it on the HTTPS port. */
const certificateFor = (text: string, host: string) => serverFor(text, 8443, host)?.certificate;
const acmeHandler = (text: string, host: string) => {
  const map = mapOf(text, "$edgeplane_http_acme");
  return map && lookup(map, host);
};

describe("renderNginxConfig with TLS, sites and ACME answers", () => {
  it("serves a route with a certificate over HTTPS and redirects its HTTP, except the ACME path", () => {
    const text = renderNginxConfig([secure], opts, sites);
    expect(handlerFor(text, "http", secure.hostname)).toBe("@to_https");
    const http = serverFor(text, 8080, secure.hostname)?.text ?? "";
    expect(locationOf(http, "@to_https")).toEqual(["return 308 https://$host:8443$request_uri;"]);
    expect(acmeHandler(text, secure.hostname)).toBe("@acme");
    expect(locationOf(http, "^~ /.well-known/acme-challenge/")).toEqual([
      "error_page 418 = $edgeplane_http_acme;",
      "return 418;",
    ]);

    expect(handlerFor(text, "https", secure.hostname)).toBe("@upstream");
    expect(upstreamFor(text, secure.hostname)).toBe("127.0.0.1:32768");
    const https = serverFor(text, 8443, secure.hostname);
    expect(https?.certificate).toBe(`${certs}/_wildcard.preview.test.crt`);
    expect(https?.text).toContain(`ssl_certificate_key ${certs}/_wildcard.preview.test.key;`);
    expect(locationOf(https?.text ?? "", "/")).toEqual(["error_page 418 = $edgeplane_https;", "return 418;"]);
    expect(locationOf(https?.text ?? "", "@upstream")).toEqual(["proxy_pass http://$edgeplane_upstream;"]);
    expect(https?.text).toContain("if=$edgeplane_https_activity;");
    // names without a certificate get no handshake at all
    expect(serverFor(text, 8443, "other.test")?.text).toContain("ssl_reject_handshake on;");
  });

  it("renders one TLS server per certificate, not per host; a host's own certificate wins over the wildcard", () => {
    const routes: Route[] = Array.from({ length: 50 }, (_, i) => ({
      hostname: `pr-${i}.preview.test`,
      upstreamPort: 30000 + i,
      environmentId: `env_${i.toString(16)}`,
      certificate: "_wildcard.preview.test",
    }));
    routes.push({ ...plain, hostname: "special.preview.test", certificate: "special.preview.test" });
    const text = renderNginxConfig(routes, opts, sites);
    const tls = servers(text).filter((s) => s.listen === "127.0.0.1:8443 ssl");
    expect(tls.map((s) => [s.certificate, s.names])).toEqual([
      [`${certs}/_wildcard.preview.test.crt`, ["*.preview.test"]],
      [`${certs}/special.preview.test.crt`, ["special.preview.test"]],
    ]);
    for (const r of routes.slice(0, 50)) {
      expect(certificateFor(text, r.hostname)).toBe(`${certs}/_wildcard.preview.test.crt`);
      expect(handlerFor(text, "https", r.hostname)).toBe("@upstream");
    }
    expect(certificateFor(text, "special.preview.test")).toBe(`${certs}/special.preview.test.crt`);
    expect(handlerFor(text, "https", "special.preview.test")).toBe("@upstream");
  });

  it("lists a host by name where no wildcard in its certificate's server brings it", () => {
    // per-host certificates under a site without one (HTTP-01), and a certificate named for no site
    const text = renderNginxConfig(
      [
        { ...plain, certificate: "pr-1.preview.test" },
        { ...plain, hostname: "app.elsewhere.test", certificate: "_wildcard.elsewhere.test" },
      ],
      opts,
      { sites: [{ domain: "preview.test" }] },
    );
    expect(certificateFor(text, "pr-1.preview.test")).toBe(`${certs}/pr-1.preview.test.crt`);
    expect(certificateFor(text, "app.elsewhere.test")).toBe(`${certs}/_wildcard.elsewhere.test.crt`);
    expect(certificateFor(text, "pr-2.preview.test")).toBeUndefined();
    // the site has no certificate: its other hosts stay on plain HTTP
    expect(handlerFor(text, "http", "pr-2.preview.test")).toBe("@status");
    expect(handlerFor(text, "https", "pr-2.preview.test")).toBe("@unknown");
  });

  it("sends hosts under a site without a route to the control plane's status page, on both ports", () => {
    const text = renderNginxConfig([], opts, sites);
    expect(handlerFor(text, "http", "pr-9.preview.test")).toBe("@to_https");
    expect(handlerFor(text, "https", "pr-9.preview.test")).toBe("@status");
    expect(certificateFor(text, "pr-9.preview.test")).toBe(`${certs}/_wildcard.preview.test.crt`);
    expect(locationOf(serverFor(text, 8443, "pr-9.preview.test")?.text ?? "", "@status")).toEqual([
      "rewrite ^ /pages/status break;",
      "proxy_pass http://127.0.0.1:3000;",
    ]);
    // without a certificate, the site stays on HTTP and nothing listens on the HTTPS port
    const http = renderNginxConfig([plain], opts, { sites: [{ domain: "preview.test" }] });
    expect(http).not.toContain("8443");
    expect(http).not.toContain("return 308");
    expect(handlerFor(http, "http", "pr-9.preview.test")).toBe("@status");
    expect(handlerFor(http, "http", plain.hostname)).toBe("@upstream");
    expect(handlerFor(http, "http", "preview.test")).toBe("@unknown");
    expect(locationOf(servers(http)[0]?.text ?? "", "@status")).toEqual([
      "rewrite ^ /pages/status break;",
      "proxy_pass http://127.0.0.1:3000;",
    ]);
  });

  it("picks the longest site domain when one lies under another", () => {
    const text = renderNginxConfig([], opts, {
      sites: [
        { domain: "preview.test", certificate: "_wildcard.preview.test" },
        { domain: "x.preview.test" },
      ],
    });
    expect(handlerFor(text, "http", "a.x.preview.test")).toBe("@status");
    expect(handlerFor(text, "http", "a.preview.test")).toBe("@to_https");
  });

  it("answers HTTP-01 challenges from a map on hosts under a site, and nothing else under that path", () => {
    const text = renderNginxConfig([plain, { ...plain, hostname: "app.other.test" }], opts, {
      sites: [{ domain: "preview.test" }],
      challenges: [{ token, keyAuthorization }],
    });
    const answers = mapOf(text, "$edgeplane_acme_answer");
    expect(answers?.source).toBe("$uri");
    expect(answers?.entries.get(`"/.well-known/acme-challenge/${token}"`)).toBe(`"${keyAuthorization}"`);
    expect(locationOf(servers(text)[0]?.text ?? "", "@acme")).toEqual([
      "default_type text/plain;",
      'if ($edgeplane_acme_answer = "") {',
      "return 404;",
      "}",
      "return 200 $edgeplane_acme_answer;",
    ]);
    // under a site (a route or not): the answer; a route under no site: its own handler, as any path
    expect(acmeHandler(text, plain.hostname)).toBe("@acme");
    expect(acmeHandler(text, "pr-9.preview.test")).toBe("@acme");
    expect(acmeHandler(text, "app.other.test")).toBe("$edgeplane_http");
    expect(acmeHandler(text, "nothing.test")).toBe("$edgeplane_http");
    // map hash sizes must come before the first map, or nginx calls them duplicates
    expect(text.indexOf("map_hash_bucket_size")).toBeLessThan(text.indexOf("map $http_upgrade"));
  });

  it("leaves a config without sites or certificates without TLS or ACME", () => {
    const text = renderNginxConfig([plain], opts);
    expect(text).not.toContain("ssl");
    expect(text).not.toContain("acme");
    expect(mapOf(text, "$edgeplane_https")).toBeUndefined();
    expect(handlerFor(text, "http", plain.hostname)).toBe("@upstream");
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
    const routes = (order: 1 | -1) =>
      [
        secure,
        { ...plain, hostname: "x.a.test" },
        { ...plain, hostname: "y.b.test", certificate: "y.b.test" },
      ].sort(() => order);
    expect(renderNginxConfig(routes(1), opts, extras(1))).toBe(
      renderNginxConfig(routes(-1), opts, extras(-1)),
    );
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
    rejects([], { sites: [{ domain: "*.preview.test" }] });
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
