/** How environment URLs are shown: the gateway's public scheme and ports. */
export interface PublicUrls {
  scheme: "http" | "https";
  port: number;
  /** The gateway's HTTPS port, for projects with TLS (default 443). */
  httpsPort?: number;
}

/**
 * The one way to build an environment's URL: `https` on the gateway's HTTPS port once its project
 * has TLS, else the public scheme and port; a default port is left out.
 */
export function environmentUrl(hostname: string, tls: boolean, urls: PublicUrls): string {
  const scheme = tls ? "https" : urls.scheme;
  const port = tls ? (urls.httpsPort ?? 443) : urls.port;
  const defaultPort = scheme === "https" ? 443 : 80;
  return port === defaultPort ? `${scheme}://${hostname}` : `${scheme}://${hostname}:${port}`;
}
