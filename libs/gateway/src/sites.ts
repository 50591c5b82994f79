import { join } from "node:path";
import { GatewayConfigError } from "./errors.ts";
import { assertHostname, assertListenHost, assertPort } from "./validate.ts";

/** A project's domain: hosts under it that no route serves get the control plane's status page. */
export interface Site {
  domain: string;
  /** The project protects (some of) its hosts: status pages ask the control plane first too. */
  protect?: boolean;
  /** File base name under `certs/` of a certificate for `*.{domain}`: HTTPS for the status pages. */
  certificate?: string;
}

/** An HTTP-01 answer: `keyAuthorization` at `/.well-known/acme-challenge/{token}` on every site host. */
export interface AcmeChallenge {
  token: string;
  keyAuthorization: string;
}

/** What the gateway serves besides routes. */
export interface GatewayExtras {
  sites?: Site[];
  challenges?: AcmeChallenge[];
}

export const CERTIFICATE_DIR = "certs";
export const ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/";

const CERTIFICATE_FILE = /^(?:_wildcard\.)?[a-z0-9.-]+$/;
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const KEY_AUTHORIZATION = /^[A-Za-z0-9_-]{1,256}\.[A-Za-z0-9_-]{1,256}$/;

/** Everything TLS-related about one render, validated. */
export interface TlsContext {
  dir: string;
  httpsListen: string | null;
  httpsPort: number | null;
  control: string | null;
  /** By domain, sorted. */
  sites: Site[];
  challenges: AcmeChallenge[];
  siteByDomain: ReadonlyMap<string, Site>;
}

export function assertCertificateName(name: unknown): asserts name is string {
  const ok =
    typeof name === "string" && CERTIFICATE_FILE.test(name) && !name.includes("..") && name.length <= 270;
  if (ok) assertHostname(name.replace(/^_wildcard\./, ""));
  else throw new GatewayConfigError(`invalid certificate name ${JSON.stringify(name)}`);
}

/** `http://127.0.0.1:3000` → `127.0.0.1:3000`; only IP literals, since nginx resolves names once. */
export function controlUpstream(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GatewayConfigError(`invalid control URL ${JSON.stringify(url)}`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (
    parsed.protocol !== "http:" ||
    parsed.pathname !== "/" ||
    parsed.search !== "" ||
    parsed.username !== ""
  ) {
    throw new GatewayConfigError(`control URL must be http://<ip>:<port>, got ${JSON.stringify(url)}`);
  }
  assertListenHost(host);
  const port = parsed.port === "" ? 80 : Number(parsed.port);
  assertPort(port, "control port");
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export function tlsContext(
  dir: string,
  opts: { listenHost: string; httpsPort?: number; controlUrl?: string },
  extras: GatewayExtras,
  routeCertificates: Array<string | undefined>,
): TlsContext {
  const sites = [...(extras.sites ?? [])].sort((a, b) =>
    a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0,
  );
  const seen = new Set<string>();
  for (const site of sites) {
    assertHostname(site.domain);
    if (site.domain.split(".").length < 2)
      throw new GatewayConfigError(`site domain ${site.domain} needs two labels`);
    if (seen.has(site.domain)) throw new GatewayConfigError(`duplicate site ${site.domain}`);
    seen.add(site.domain);
    if (site.certificate !== undefined) assertCertificateName(site.certificate);
  }
  const challenges = [...(extras.challenges ?? [])].sort((a, b) => (a.token < b.token ? -1 : 1));
  for (const c of challenges) {
    if (!TOKEN.test(c.token) || !KEY_AUTHORIZATION.test(c.keyAuthorization)) {
      throw new GatewayConfigError(`invalid ACME challenge ${JSON.stringify(c.token)}`);
    }
  }
  for (const name of routeCertificates) if (name !== undefined) assertCertificateName(name);
  const needsHttps =
    sites.some((s) => s.certificate !== undefined) || routeCertificates.some((c) => c !== undefined);
  if (needsHttps && opts.httpsPort === undefined) {
    throw new GatewayConfigError("certificates given but no HTTPS port");
  }
  if (opts.httpsPort !== undefined) assertPort(opts.httpsPort, "HTTPS port");
  if (sites.length > 0 && opts.controlUrl === undefined)
    throw new GatewayConfigError("sites need a control URL");
  const host = opts.listenHost.includes(":") ? `[${opts.listenHost}]` : opts.listenHost;
  return {
    dir,
    httpsListen: needsHttps ? `${host}:${opts.httpsPort}` : null,
    httpsPort: needsHttps ? (opts.httpsPort ?? null) : null,
    control: opts.controlUrl === undefined ? null : controlUpstream(opts.controlUrl),
    sites,
    challenges,
    siteByDomain: new Map(sites.map((site) => [site.domain, site])),
  };
}

/**
 * The site a host lies under: the longest domain it ends with (`.{domain}`) when one project's domain
 * lies under another's, as nginx picks the longest `*.{domain}` wildcard.
 */
export function siteOf(ctx: TlsContext, hostname: string): Site | undefined {
  for (let dot = hostname.indexOf("."); dot !== -1; dot = hostname.indexOf(".", dot + 1)) {
    const site = ctx.siteByDomain.get(hostname.slice(dot + 1));
    if (site) return site;
  }
  return undefined;
}

/** The http-level map answering HTTP-01 challenges; empty strings everywhere else. */
export function renderChallengeMap(ctx: TlsContext): string {
  if (ctx.sites.length === 0) return "";
  const entries = ctx.challenges
    .map((c) => `    "${ACME_CHALLENGE_PATH}${c.token}" "${c.keyAuthorization}";\n`)
    .join("");
  return `
  # ACME HTTP-01 answers for certificates being issued right now
  map $uri $edgeplane_acme_answer {
    default "";
${entries}  }
`;
}

export function sslDirectives(ctx: TlsContext, certificate: string): string {
  const base = join(ctx.dir, CERTIFICATE_DIR, certificate);
  return `    ssl_certificate ${base}.crt;
    ssl_certificate_key ${base}.key;
`;
}

/** HTTPS settings and a default server that refuses handshakes for names without a certificate. */
export function renderHttpsDefault(ctx: TlsContext): string {
  if (ctx.httpsListen === null) return "";
  return `
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:edgeplane_tls:1m;
  server {
    listen ${ctx.httpsListen} ssl default_server;
    server_name _;
    ssl_reject_handshake on;
  }
`;
}
