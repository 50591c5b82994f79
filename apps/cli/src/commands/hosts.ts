import { isIP } from "node:net";
import { type HostsEntry, renderHostsBlock, updateHostsFile } from "@edgeplane/pages";
import { apiGet, loadClientEnv } from "../api-client.ts";

export const HOSTS_USAGE = `usage: edgeplane hosts [--write FILE] [--address IP]

Prints hosts-file lines pointing every ready environment's hostname at the gateway.
  --write FILE    update the edgeplane block of FILE in place (e.g. /etc/hosts); safe to repeat
  --address IP    the gateway's address (default: EDGEPLANE_GATEWAY_HOST, or 127.0.0.1)
Environment: EDGEPLANE_API_URL, EDGEPLANE_TOKEN (else the admin token in EDGEPLANE_STATE_DIR).
`;

export interface HostsOptions {
  write?: string;
  address?: string;
}

export function parseHostsArgs(args: string[]): HostsOptions {
  const options: HostsOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if ((arg === "--write" || arg === "--address") && value !== undefined && !value.startsWith("--")) {
      options[arg === "--write" ? "write" : "address"] = value;
      i++;
    } else {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
  }
  return options;
}

export class UsageError extends Error {
  override name = "UsageError";
}

/** The address hosts lines point at: a wildcard listen address is reached on loopback. */
function gatewayAddress(configured: string): string {
  if (configured === "0.0.0.0") return "127.0.0.1";
  if (configured === "::") return "::1";
  return configured;
}

/** `edgeplane hosts`: hosts-file lines for every ready environment, printed or written into a marked block. */
export async function hosts(args: string[]): Promise<void> {
  const options = parseHostsArgs(args);
  const env = loadClientEnv();
  const address = options.address ?? gatewayAddress(env.EDGEPLANE_GATEWAY_HOST);
  if (isIP(address) === 0) throw new UsageError(`--address must be an IP address, got '${address}'`);
  const response = await apiGet(env, "/v1/environments?status=ready");
  const { environments } = (await response.json()) as { environments: Array<{ hostname: string }> };
  const entries: HostsEntry[] = environments.map((e) => ({ hostname: e.hostname, address }));
  if (options.write) {
    const { changed } = await updateHostsFile(options.write, entries);
    process.stderr.write(
      `edgeplane: ${options.write}: ${changed ? "updated" : "already up to date"} (${entries.length} host${entries.length === 1 ? "" : "s"})\n`,
    );
    return;
  }
  process.stdout.write(renderHostsBlock(entries));
}
