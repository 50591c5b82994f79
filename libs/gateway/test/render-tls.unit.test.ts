import { describe, expect, it } from "vitest";
import type { CertificatePem } from "../src/certificate-files.ts";
import { GatewayConfigError } from "../src/errors.ts";
import { type RenderOptions, renderNginxConfig } from "../src/render.ts";
import type { Route } from "../src/route.ts";
import { controlUpstream, type GatewayExtras } from "../src/sites.ts";
import {
  handlerFor,
  locationOf,
  lookup,
  mapOf,
  presentedFor,
  serverFor,
  servers,
  upstreamFor,
} from "./config.ts";

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

/** A PEM block holding `text`, as the gateway writes PEM into the config. */
const pemBlock = (label: string, text: string) =>
  `-----BEGIN ${label}-----\n${Buffer.from(text)
    .toString("base64")
    .replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
/** Well-formed stand-in PEM that says which certificate it is (`size` times, for a long chain). */
const pemOf = (name: string, size = 1): CertificatePem => ({
  chain: pemBlock("CERTIFICATE", `certificate ${name} `.repeat(size)),
  key: pemBlock("PRIVATE KEY", `key ${name}`),
});
/** Renders with the PEM of every certificate that routes and sites name, as the gateway reads it. */
const render = (routes: Route[], options: RenderOptions, extras: GatewayExtras = {}) => {
  const named = [...routes, ...(extras.sites ?? [])].flatMap((r) => r.certificate ?? []);
  return renderNginxConfig(routes, options, extras, new Map(named.map((name) => [name, pemOf(name)])));
};
const rejects = (routes: Route[], extras: GatewayExtras, options: RenderOptions = opts) =>
  expect(() => render(routes, options, extras)).toThrow(GatewayConfigError);
/** The certificate a handshake asking for `host` presents, by the name its stand-in PEM says. */
const certificateFor = (text: string, host: string) => {
  const presented = presentedFor(text, 8443, host);
  if (presented === undefined) return undefined;
  const base64 = presented.chain.split("\n").slice(1, -2).join("");
  const name = /^certificate (\S+) /.exec(Buffer.from(base64, "base64").toString())?.[1] ?? "";
  expect(presented, host).toEqual(pemOf(name));
  return name;
};
const acmeHandler = (text: string, host: string) => {
  const map = mapOf(text, "$edgeplane_http_acme");
  return map && lookup(map, host);
};

describe("renderNginxConfig with TLS, sites and ACME answers", () => {
  it("serves a route with a certificate over HTTPS and redirects its HTTP, except the ACME path", () => {
    const text = render([secure], opts, sites);
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
    expect(presentedFor(text, 8443, secure.hostname)).toEqual(pemOf("_wildcard.preview.test"));
    expect(locationOf(https?.text ?? "", "/")).toEqual(["error_page 418 = $edgeplane_https;", "return 418;"]);
    expect(locationOf(https?.text ?? "", "@upstream")).toEqual(["proxy_pass http://$edgeplane_upstream;"]);
    expect(https?.text).toContain("if=$edgeplane_https_activity;");
    // names without a certificate get no handshake at all
    expect(serverFor(text, 8443, "other.test")?.text).toContain("ssl_reject_handshake on;");
  });

  it("renders one TLS server for every host with a certificate; a host's own certificate wins over the wildcard", () => {
    const routes: Route[] = Array.from({ length: 50 }, (_, i) => ({
      hostname: `pr-${i}.preview.test`,
      upstreamPort: 30000 + i,
      environmentId: `env_${i.toString(16)}`,
      certificate: "_wildcard.preview.test",
    }));
    routes.push({ ...plain, hostname: "special.preview.test", certificate: "special.preview.test" });
    const text = render(routes, opts, sites);
    const tls = servers(text).filter((s) => s.listen === "127.0.0.1:8443 ssl");
    expect(tls.map((s) => s.names)).toEqual([["*.preview.test", "special.preview.test"]]);
    for (const r of routes.slice(0, 50)) {
      expect(certificateFor(text, r.hostname)).toBe("_wildcard.preview.test");
      expect(handlerFor(text, "https", r.hostname)).toBe("@upstream");
    }
    expect(certificateFor(text, "special.preview.test")).toBe("special.preview.test");
    expect(handlerFor(text, "https", "special.preview.test")).toBe("@upstream");
  });

  it("lists a host by name where no wildcard in its certificate's server brings it", () => {
    // per-host certificates under a site without one (HTTP-01), and a certificate named for no site
    const text = render(
      [
        { ...plain, certificate: "pr-1.preview.test" },
        { ...plain, hostname: "app.elsewhere.test", certificate: "_wildcard.elsewhere.test" },
      ],
      opts,
      { sites: [{ domain: "preview.test" }] },
    );
    expect(certificateFor(text, "pr-1.preview.test")).toBe("pr-1.preview.test");
    expect(certificateFor(text, "app.elsewhere.test")).toBe("_wildcard.elsewhere.test");
    expect(certificateFor(text, "pr-2.preview.test")).toBeUndefined();
    // the site has no certificate: its other hosts stay on plain HTTP
    expect(handlerFor(text, "http", "pr-2.preview.test")).toBe("@status");
    expect(handlerFor(text, "https", "pr-2.preview.test")).toBe("@unknown");
  });

  it("sends hosts under a site without a route to the control plane's status page, on both ports", () => {
    const text = render([], opts, sites);
    expect(handlerFor(text, "http", "pr-9.preview.test")).toBe("@to_https");
    expect(handlerFor(text, "https", "pr-9.preview.test")).toBe("@status");
    expect(certificateFor(text, "pr-9.preview.test")).toBe("_wildcard.preview.test");
    expect(locationOf(serverFor(text, 8443, "pr-9.preview.test")?.text ?? "", "@status")).toEqual([
      "rewrite ^ /pages/status break;",
      "proxy_pass http://127.0.0.1:3000;",
    ]);
    // without a certificate, the site stays on HTTP and nothing listens on the HTTPS port
    const http = render([plain], opts, { sites: [{ domain: "preview.test" }] });
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
    const text = render([], opts, {
      sites: [
        { domain: "preview.test", certificate: "_wildcard.preview.test" },
        { domain: "x.preview.test" },
      ],
    });
    expect(handlerFor(text, "http", "a.x.preview.test")).toBe("@status");
    expect(handlerFor(text, "http", "a.preview.test")).toBe("@to_https");
  });

  it("answers HTTP-01 challenges from a map on hosts under a site, and nothing else under that path", () => {
    const text = render([plain, { ...plain, hostname: "app.other.test" }], opts, {
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
    const text = render([plain], opts);
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
    expect(render(routes(1), opts, extras(1))).toBe(render(routes(-1), opts, extras(-1)));
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

  it("writes a long chain into the config in pieces nginx can read, and joins them again", () => {
    // nginx reads a config token into a 4 KiB buffer; a chain with its intermediates may be longer
    const long = pemOf("_wildcard.preview.test", 200);
    const short = pemOf("special.preview.test");
    const text = renderNginxConfig(
      [{ ...plain, hostname: "special.preview.test", certificate: "special.preview.test" }],
      opts,
      sites,
      new Map([
        ["_wildcard.preview.test", long],
        ["special.preview.test", short],
      ]),
    );
    expect(long.chain.length).toBeGreaterThan(4096);
    expect(presentedFor(text, 8443, "pr-1.preview.test")).toEqual(long);
    expect(presentedFor(text, 8443, "special.preview.test")).toEqual(short);
    for (const line of text.split("\n")) expect(line.length).toBeLessThan(4000);
  });

  it("refuses a certificate it has no PEM for, and PEM that is anything but PEM", () => {
    expect(() => renderNginxConfig([secure], opts, sites)).toThrow(/certificate _wildcard.preview.test/);
    const good = pemOf("_wildcard.preview.test");
    for (const pem of [
      { ...good, chain: `${good.chain}"; include /etc/passwd; "` },
      { ...good, chain: good.chain.replaceAll("\n", "\r\n") },
      { ...good, chain: "$ssl_server_name" },
      { ...good, chain: good.key },
      { ...good, key: good.chain },
      { ...good, key: good.key + good.key },
      { ...good, key: good.key.replace("\n", "\nProc-Type: 4,ENCRYPTED\n") },
      { ...good, chain: "" },
    ]) {
      expect(() =>
        renderNginxConfig([secure], opts, sites, new Map([["_wildcard.preview.test", pem]])),
      ).toThrow(GatewayConfigError);
    }
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
