import { isIP } from "node:net";
import { isAbsolute } from "node:path";
import { isDnsName, isId } from "@edgeplane/domain";
import { GatewayConfigError } from "./errors.ts";

// Every value below ends up inside nginx config text. Each check is an allow-list, so nothing that
// could close a directive (`;`, `}`), start a variable (`$`), a regex (`~`) or a new line gets through.

const SAFE_PATH = /^[A-Za-z0-9._/@+-]+$/;

export function assertHostname(hostname: unknown): asserts hostname is string {
  if (typeof hostname !== "string" || !isDnsName(hostname))
    throw new GatewayConfigError(`invalid hostname ${JSON.stringify(hostname)}`);
}

export function assertPort(port: unknown, what = "port"): asserts port is number {
  const ok = typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535;
  if (!ok) throw new GatewayConfigError(`invalid ${what} ${JSON.stringify(port)}`);
}

export function assertEnvironmentId(id: unknown): asserts id is string {
  if (!isId("environment", id)) {
    throw new GatewayConfigError(`invalid environment id ${JSON.stringify(id)}`);
  }
}

/**
 * An upstream is an IP literal (a container's address): nginx would resolve a name once, at startup.
 * Without an IPv6 zone (`fe80::1%eth0`), which nginx refuses: the address is looked up per request,
 * so it would fail each request instead of the config.
 */
export function assertUpstreamHost(host: unknown): asserts host is string {
  if (typeof host !== "string" || isIP(host) === 0 || host.includes("%")) {
    throw new GatewayConfigError(`invalid upstream address ${JSON.stringify(host)}: expected an IP address`);
  }
}

/** The listen address must be an IP literal: nginx would resolve a name once, at startup. */
export function assertListenHost(host: unknown): asserts host is string {
  if (typeof host !== "string" || isIP(host) === 0) {
    throw new GatewayConfigError(`invalid listen host ${JSON.stringify(host)}: expected an IP address`);
  }
}

export function assertDir(dir: unknown): asserts dir is string {
  const ok =
    typeof dir === "string" && isAbsolute(dir) && SAFE_PATH.test(dir) && !dir.split("/").includes("..");
  if (!ok) {
    throw new GatewayConfigError(
      `invalid gateway dir ${JSON.stringify(dir)}: expected an absolute path of letters, digits and ._/@+-`,
    );
  }
}
