import { apiGet, loadClientEnv } from "../api-client.ts";
import { UsageError } from "./hosts.ts";

export const CA_USAGE = `usage: edgeplane ca export

Prints the root certificate of edgeplane's local CA (PEM), to add to a browser's or system's trust store
for projects with \`"tls": {"mode": "local"}\`. The CA's key never leaves the control plane.
`;

export async function ca(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== "export" || rest.length > 0)
    throw new UsageError(sub ? `unknown ca command '${sub}'` : "missing ca command");
  const response = await apiGet(loadClientEnv(), "/v1/ca/root");
  process.stdout.write(await response.text());
}
