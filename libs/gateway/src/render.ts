import type { CertificatePem } from "./certificate-files.ts";
import { GatewayConfigError } from "./errors.ts";
import {
  HANDLERS,
  type Handler,
  handlerLocation,
  isProtected,
  NOT_FOUND_BODY,
  serverLocations,
  servesEnvironment,
  UPSTREAM_VARIABLE,
} from "./handlers.ts";
import { hashSizes, renderMap } from "./maps.ts";
import { gatewayPaths } from "./paths.ts";
import { compare, type Route, validateRoutes } from "./route.ts";
import { type RoutingTable, routingTable } from "./routing.ts";
import {
  ACME_CHALLENGE_PATH,
  type GatewayExtras,
  renderCertificates,
  renderChallengeMap,
  renderHttpsDefault,
  type TlsContext,
  tlsContext,
} from "./sites.ts";
import { assertDir, assertListenHost, assertPort } from "./validate.ts";

export { NOT_FOUND_BODY };

export interface RenderOptions {
  /** Absolute prefix dir holding the config, pid file, logs and temp dirs. */
  dir: string;
  listenHost: string;
  listenPort: number;
  /** HTTPS listener port; used once any route or site has a certificate. */
  httpsPort?: number;
  /** The control plane (`http://<ip>:<port>`) serving status pages for hosts under a site. */
  controlUrl?: string;
}

/**
 * Renders the whole nginx main config from the routes alone (and the PEM of the certificates they
 * and the sites name, `certificates` by name), so the same state always yields the same bytes. Every
 * value is validated first; throws GatewayConfigError on anything unexpected.
 *
 * Its server blocks are a fixed few, however many hosts and certificates: one plain-HTTP server for
 * every host, and one TLS server for every host with a certificate (SNI finds it by the names it
 * lists, `*.{domain}` for a site's hosts, and a map gives the handshake the certificate for the
 * name). A server looks the request's host up in maps (which handler serves it: an environment's
 * upstream, the waker, a status page, the redirect to HTTPS, 404; and the upstream's address) and
 * hands the request to that handler's named location.
 */
export function renderNginxConfig(
  routes: Route[],
  opts: RenderOptions,
  extras: GatewayExtras = {},
  certificates: ReadonlyMap<string, CertificatePem> = new Map(),
): string {
  assertDir(opts.dir);
  assertListenHost(opts.listenHost);
  assertPort(opts.listenPort, "listen port");
  const sorted = validateRoutes(routes);
  const paths = gatewayPaths(opts.dir);
  const listen = `${opts.listenHost.includes(":") ? `[${opts.listenHost}]` : opts.listenHost}:${opts.listenPort}`;
  const tls = tlsContext(
    opts,
    extras,
    sorted.map((route) => route.certificate),
  );
  for (const route of sorted) {
    if ((route.protect || route.sleeping) && tls.control === null)
      throw new GatewayConfigError(`route ${route.hostname} needs the control plane's URL`);
  }
  const table = routingTable(sorted, tls);
  const activity = (listener: string) =>
    `    access_log ${paths.activityLog} edgeplane_activity buffer=16k flush=1s if=$edgeplane_${listener}_activity;\n`;
  const httpLogs = [...table.httpHandlers].some(servesEnvironment);
  const httpsLogs = [...table.httpsHandlers].some(servesEnvironment);
  const tlsNames = table.certificates.map((entry) => entry.key).sort(compare);
  // one hash of server names per listener
  const serverNames = hashSizes([tlsNames]);
  const mapKeys = hashSizes([
    table.http.map((entry) => entry.key),
    table.https.map((entry) => entry.key),
    tls.challenges.map((c) => `${ACME_CHALLENGE_PATH}${c.token}`),
    table.certificates.map((entry) => entry.value),
  ]);
  const certificateSelection =
    tlsNames.length === 0 ? undefined : renderCertificates(table.certificates, certificates);

  return `# Rendered by edgeplane from desired state; edits here are overwritten.
worker_processes 1;
# A reload waits for old workers to finish in-flight requests; this bounds how long that can take.
worker_shutdown_timeout 10s;
pid ${paths.pid};
error_log ${paths.errorLog} warn;

events {
  worker_connections 1024;
}

http {
  access_log off;
  log_format edgeplane_activity '$msec $host';
  server_tokens off;
  default_type text/plain;
  # Hosts are found in hashes, sized for the names below (up to 253 characters, thousands of them).
  # Set before the first map.
  server_names_hash_bucket_size ${serverNames.bucketSize};
  server_names_hash_max_size ${serverNames.maxSize};
  map_hash_bucket_size ${mapKeys.bucketSize};
  map_hash_max_size ${mapKeys.maxSize};

  client_body_temp_path ${paths.temp.clientBody};
  proxy_temp_path ${paths.temp.proxy};
  fastcgi_temp_path ${paths.temp.fastcgi};
  uwsgi_temp_path ${paths.temp.uwsgi};
  scgi_temp_path ${paths.temp.scgi};

  # Nothing is buffered to disk: request bodies stream to the upstream and responses pass through
  # memory buffers. Started as root, nginx runs its workers as an unprivileged user that may not be
  # able to reach this dir (e.g. under a 0700 home), so temp files would fail mid-request. The temp
  # paths above only keep nginx from touching system dirs.
  proxy_request_buffering off;
  proxy_max_temp_file_size 0;

  proxy_http_version 1.1;
  proxy_set_header Host $host;
  proxy_set_header X-Real-IP $remote_addr;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header X-Forwarded-Host $host;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection $connection_upgrade;
  proxy_connect_timeout 5s;
  proxy_send_timeout 60s;
  proxy_read_timeout 60s;

  # WebSocket upgrades pass through; other requests send no Connection header upstream.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    "" "";
  }
${renderChallengeMap(tls)}${renderRoutingMaps(table, tls)}${certificateSelection?.maps ?? ""}
  # Every host on plain HTTP: the maps above say which handler serves it.
  server {
    listen ${listen} default_server;
    server_name _;
${httpLogs ? activity("http") : ""}${serverLocations(tls, selectors("http", tls.sites.length > 0), table.httpHandlers)}  }
${renderHttpsDefault(tls)}${
  certificateSelection === undefined
    ? ""
    : `
  # Every host with a certificate on HTTPS: the maps above say which certificate and which handler.
  server {
    listen ${tls.httpsListen} ssl;
    server_name ${tlsNames.join(" ")};
${certificateSelection.directives}${httpsLogs ? activity("https") : ""}${serverLocations(tls, selectors("https"), table.httpsHandlers)}  }
`
}}
`;
}

/** The variables a listener's server picks its handler by. */
function selectors(listener: "http" | "https", acme = false) {
  return {
    handler: `$edgeplane_${listener}`,
    reserved: `$edgeplane_${listener}_reserved`,
    ...(acme ? { acme: `$edgeplane_${listener}_acme` } : {}),
  };
}

/** The http-level maps the servers look hosts up in. */
function renderRoutingMaps(table: RoutingTable, tls: TlsContext): string {
  const listener = (name: "http" | "https", entries: RoutingTable["http"], handlers: Set<Handler>) => {
    const variable = `$edgeplane_${name}`;
    const used = HANDLERS.filter((h) => handlers.has(h));
    const protectedOnes = used.filter(isProtected);
    const served = used.filter(servesEnvironment);
    return `${renderMap(
      name === "http"
        ? "Plain HTTP: the handler serving each host (routes by name, project domains by wildcard)"
        : "HTTPS: the handler serving each host with a certificate",
      "$host",
      variable,
      entries,
      { hostnames: true, default: handlerLocation("unknown") },
    )}${
      protectedOnes.length === 0
        ? ""
        : renderMap(
            "A protection path requested from outside: the host's own handler, a plain 404 if protected",
            variable,
            `${variable}_reserved`,
            protectedOnes.map((h) => ({ key: handlerLocation(h), value: "@reserved" })),
            { default: variable },
          )
    }${
      served.length === 0
        ? ""
        : renderMap(
            "Requests an environment served: logged as its activity",
            variable,
            `${variable}_activity`,
            served.map((h) => ({ key: handlerLocation(h), value: "1" })),
          )
    }`;
  };
  return `${listener("http", table.http, table.httpHandlers)}${renderMap(
    "Where each awake environment's host is proxied: IP addresses, so no resolver",
    "$host",
    UPSTREAM_VARIABLE,
    table.upstreams,
  )}${
    tls.sites.length === 0
      ? ""
      : renderMap(
          "The ACME path: answered for hosts under a project's domain, else served as any other path",
          "$host",
          "$edgeplane_http_acme",
          table.acme,
          { hostnames: true, default: "$edgeplane_http" },
        )
  }${table.certificates.length === 0 ? "" : listener("https", table.https, table.httpsHandlers)}`;
}
