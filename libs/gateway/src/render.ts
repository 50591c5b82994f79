import { GatewayConfigError } from "./errors.ts";
import { gatewayPaths } from "./paths.ts";
import {
  acmeLocation,
  type GatewayExtras,
  protectDirectives,
  protectLocations,
  redirectToHttps,
  renderChallengeMap,
  renderHttpsDefault,
  renderSites,
  siteOf,
  sslDirectives,
  type TlsContext,
  tlsContext,
} from "./sites.ts";
import {
  assertDir,
  assertEnvironmentId,
  assertHostname,
  assertListenHost,
  assertPort,
  assertUpstreamHost,
} from "./validate.ts";

const upstreamAddress = (host: string) => (host.includes(":") ? `[${host}]` : host);

export interface Route {
  hostname: string;
  /** The IP address the environment is reached at (its container on its own network); default 127.0.0.1. */
  upstreamHost?: string;
  upstreamPort: number;
  environmentId: string;
  /** File base name under `certs/` of a certificate covering the hostname: served over HTTPS too. */
  certificate?: string;
  /** Each request asks the control plane first whether it may pass (a protected project's host). */
  protect?: boolean;
  /** The environment sleeps: requests go to the control plane, which wakes it and passes them on. */
  sleeping?: boolean;
}

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

export const NOT_FOUND_BODY = "no environment serves this host\n";

/**
 * Renders the whole nginx main config from the routes alone, so the same state always yields the
 * same bytes. Every value is validated first; throws GatewayConfigError on anything unexpected.
 */
export function renderNginxConfig(routes: Route[], opts: RenderOptions, extras: GatewayExtras = {}): string {
  assertDir(opts.dir);
  assertListenHost(opts.listenHost);
  assertPort(opts.listenPort, "listen port");
  const sorted = validateRoutes(routes);
  const paths = gatewayPaths(opts.dir);
  const listen = `${opts.listenHost.includes(":") ? `[${opts.listenHost}]` : opts.listenHost}:${opts.listenPort}`;
  const tls = tlsContext(
    opts.dir,
    opts,
    extras,
    sorted.map((route) => route.certificate),
  );

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
  # Names can be up to 253 characters; the default bucket size only fits short ones.
  server_names_hash_bucket_size 512;
  # Set before the first map: ACME HTTP-01 paths are about 70 characters.
  map_hash_bucket_size 256;

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

  server {
    listen ${listen} default_server;
    server_name _;
    return 404 ${JSON.stringify(NOT_FOUND_BODY)};
  }
${renderChallengeMap(tls)}${renderHttpsDefault(tls)}${renderSites(tls, listen)}${sorted.map((route) => renderServer(route, listen, tls, paths.activityLog)).join("")}}
`;
}

function validateRoute(route: Route): void {
  assertHostname(route.hostname);
  if (route.upstreamHost !== undefined) assertUpstreamHost(route.upstreamHost);
  assertPort(route.upstreamPort, "upstream port");
  assertEnvironmentId(route.environmentId);
}

/** Why the gateway would refuse this route, or undefined: lets a caller leave one bad route out. */
export function routeProblem(route: Route): string | undefined {
  try {
    validateRoute(route);
    return undefined;
  } catch (error) {
    if (error instanceof GatewayConfigError) return error.message;
    throw error;
  }
}

function validateRoutes(routes: Route[]): Route[] {
  const seen = new Set<string>();
  for (const route of routes) {
    validateRoute(route);
    if (seen.has(route.hostname)) throw new GatewayConfigError(`duplicate hostname ${route.hostname}`);
    seen.add(route.hostname);
  }
  return [...routes].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
}

function renderServer(route: Route, listen: string, tls: TlsContext, activityLog: string): string {
  if ((route.protect || route.sleeping) && tls.control === null)
    throw new GatewayConfigError(`route ${route.hostname} needs the control plane's URL`);
  const upstream = route.sleeping
    ? `proxy_pass http://${tls.control}/gateway/wake/;
      proxy_read_timeout 120s;`
    : `proxy_pass http://${upstreamAddress(route.upstreamHost ?? "127.0.0.1")}:${route.upstreamPort};`;
  const proxy = `    access_log ${activityLog} edgeplane_activity buffer=16k flush=1s;
${route.protect ? protectLocations(tls) : ""}    location / {
${route.protect ? protectDirectives : ""}      ${upstream}
    }
`;
  const acme = siteOf(tls, route.hostname) ? acmeLocation : "";
  if (route.certificate === undefined) {
    return `
  # environment ${route.environmentId}
  server {
    listen ${listen};
    server_name ${route.hostname};
${acme}${proxy}  }
`;
  }
  return `
  # environment ${route.environmentId}
  server {
    listen ${listen};
    server_name ${route.hostname};
${acme}    location / {
      ${redirectToHttps(tls)}
    }
  }
  server {
    listen ${tls.httpsListen} ssl;
    server_name ${route.hostname};
${sslDirectives(tls, route.certificate)}${proxy}  }
`;
}
