import {
  assertCertificateName,
  type CertificatePem,
  certificatePemProblem,
  type KeyMaterial,
} from "./certificate-files.ts";
import { GatewayConfigError } from "./errors.ts";
import { type MapEntry, renderMap } from "./maps.ts";
import { compare } from "./route.ts";
import { assertHostname, assertListenHost, assertPort } from "./validate.ts";

/** A project's domain: hosts under it that no route serves get the control plane's status page. */
export interface Site {
  domain: string;
  /** The project protects (some of) its hosts: status pages ask the control plane first too. */
  protect?: boolean;
  /** The name (see certificateFileName) of a certificate for `*.{domain}`: HTTPS for the status pages. */
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
  /** The certificate and key of every name routes and sites give as `certificate`. */
  certificates?: ReadonlyMap<string, KeyMaterial>;
}
export const ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/";

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const KEY_AUTHORIZATION = /^[A-Za-z0-9_-]{1,256}\.[A-Za-z0-9_-]{1,256}$/;

/** Everything TLS-related about one render, validated. */
export interface TlsContext {
  httpsListen: string | null;
  httpsPort: number | null;
  control: string | null;
  /** By domain, sorted. */
  sites: Site[];
  challenges: AcmeChallenge[];
  siteByDomain: ReadonlyMap<string, Site>;
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

/** The variable naming the certificate a TLS handshake presents (its name, see certificateFileName). */
const CERTIFICATE_VARIABLE = "$edgeplane_certificate";

/**
 * nginx reads each token of its config into a 4 KiB buffer, and a chain of certificates may be longer:
 * PEM goes into the config in pieces of at most this many characters (at most twice as many once its
 * new lines are written `\n`), a map per piece, joined again where the certificate is loaded.
 */
const PEM_PIECE = 1800;

/**
 * Certificates chosen per handshake (`entries`: not empty). Every host with a certificate is served
 * by one TLS server whose `ssl_certificate` and `ssl_certificate_key` are variables: the name SNI
 * asked for gives the certificate (an exact name, else the longest `*.` wildcard, as `server_name`
 * picks), and the certificate its PEM, written into the config itself, since the worker that loads
 * it may not be able to read files that the master (root) can.
 *
 * Why: with a TLS server per certificate, every reload (every route change) loaded every certificate
 * again, about 1.4 ms each with OpenSSL 3 (decoding its PEM, a TLS context per server), so 125 held
 * each route change back by ~180 ms. Now a reload loads none, and a full handshake loads its one
 * certificate (about 1 ms more per full handshake); resumed sessions load nothing.
 */
export function renderCertificates(
  entries: MapEntry[],
  pem: ReadonlyMap<string, CertificatePem>,
): { maps: string; directives: string } {
  const names = [...new Set(entries.map((e) => e.value))].sort(compare);
  for (const name of names) {
    const certificate = pem.get(name);
    if (certificate === undefined) throw new GatewayConfigError(`certificate ${name} was not read`);
    const problem = certificatePemProblem(certificate);
    if (problem) throw new GatewayConfigError(`certificate ${name}: ${problem}`);
  }
  /** The maps giving the chosen certificate's chain (or key) a piece each, and the value joining them. */
  const part = (which: keyof CertificatePem) => {
    const pieces = new Map(names.map((name) => [name, inPieces(pem.get(name)?.[which] ?? "")]));
    const count = Math.max(...[...pieces.values()].map((p) => p.length));
    const variables = Array.from({ length: count }, (_, i) => `${CERTIFICATE_VARIABLE}_${which}_${i}`);
    const maps = variables.map((variable, i) =>
      renderMap(
        `The chosen certificate's ${which} (PEM), piece ${i + 1} of ${count}`,
        CERTIFICATE_VARIABLE,
        variable,
        names.flatMap((name) => {
          const piece = pieces.get(name)?.[i];
          return piece === undefined ? [] : [{ key: name, value: `"${piece.replaceAll("\n", "\\n")}"` }];
        }),
      ),
    );
    return { maps: maps.join(""), value: `data:${variables.join("")}` };
  };
  const chain = part("chain");
  const key = part("key");
  return {
    maps: `${renderMap(
      "HTTPS: the certificate each handshake presents, by the name it asks for (SNI)",
      "$ssl_server_name",
      CERTIFICATE_VARIABLE,
      entries,
      { hostnames: true },
    )}${chain.maps}${key.maps}`,
    directives: `    ssl_certificate ${chain.value};\n    ssl_certificate_key ${key.value};\n`,
  };
}

function inPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += PEM_PIECE) pieces.push(text.slice(at, at + PEM_PIECE));
  return pieces;
}

/**
 * HTTPS settings and a default server that refuses handshakes for names without a certificate.
 * Resumed sessions skip loading a certificate; they are kept in a shared cache, which a reload keeps,
 * rather than in tickets, whose keys nginx draws anew at every reload (every route change).
 */
export function renderHttpsDefault(ctx: TlsContext): string {
  if (ctx.httpsListen === null) return "";
  return `
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:edgeplane_tls:10m;
  ssl_session_tickets off;
  server {
    listen ${ctx.httpsListen} ssl default_server;
    server_name _;
    ssl_reject_handshake on;
  }
`;
}
