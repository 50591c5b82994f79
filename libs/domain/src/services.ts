/**
 * An environment of a project with a compose file is a set of services. What each should run (the
 * image requested and the digest staged for it, and the deploy's own environment values) is intent,
 * kept on the environment row with its generation; what runs is observed per service.
 */
export interface DesiredService {
  image: string;
  /** Null until staging pinned it. */
  digest: string | null;
  /** Values this deploy sets over the compose file's `environment`. */
  env: Record<string, string>;
}
export type DesiredServices = Record<string, DesiredService>;

/** A service's container as reconcile saw it healthy (or completed, for a one-shot). */
export interface ObservedService {
  containerId: string;
  /** Where the gateway reaches it: its address on the environment's network, or its Swarm node's. */
  address: string;
  /** The Swarm node its task runs on; absent or null on a single Docker host. */
  node?: string | null;
  /** The port the gateway routes to; null for a private service. */
  port: number | null;
  /** What it runs, hashed: a service whose hash is unchanged is kept across deploys. */
  configHash: string;
  /** Where the gateway routes to it; null for a private service. */
  hostname: string | null;
  /** Ran to completion (migrations, seeds): not running is its normal state. */
  oneShot: boolean;
}
export type ObservedServices = Record<string, ObservedService>;

/**
 * The host label of a service: the primary service answers at the environment's own name, every
 * other routed one at `{service}--{environment}` (one DNS label, so a wildcard certificate covers it).
 */
export function serviceHostname(
  service: string,
  environment: string,
  domain: string,
  primary: string | null,
): string {
  return service === primary ? `${environment}.${domain}` : `${service}--${environment}.${domain}`;
}

/**
 * The environment's own hostname for any of its hosts: `{service}--{env}.{domain}` is a host of
 * `{env}.{domain}`; any other host is given back as it is.
 */
export function environmentHostnameOf(host: string): string {
  const dot = host.indexOf(".");
  const label = dot === -1 ? host : host.slice(0, dot);
  const at = label.lastIndexOf("--");
  return at === -1 ? host : host.slice(at + 2);
}
