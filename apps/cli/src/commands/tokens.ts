import { type ParseArgsConfig, parseArgs } from "node:util";
import { apiRequest, loadClientEnv } from "../api-client.ts";
import { UsageError } from "./hosts.ts";

export const TOKENS_USAGE = `usage: edgeplane tokens <create|list|revoke>

  tokens create NAME [--project P]... [--scope deploy|read|admin]...
                    a token for CI: shown once, stored hashed (default scopes: deploy, read)
  tokens list       every token: id, name, scopes, projects, created, revoked
  tokens revoke ID  the token is refused from then on
Environment: EDGEPLANE_API_URL, EDGEPLANE_TOKEN (else the admin token in EDGEPLANE_STATE_DIR).
Managing tokens needs the admin token or a token with the admin scope.
`;

interface TokenView {
  id: string;
  name: string;
  scopes: string[];
  projects: string[];
  createdAt: string;
  revokedAt: string | null;
}

/** `edgeplane tokens …`: create, list and revoke API tokens through the API. */
export async function tokens(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "create":
      return create(rest);
    case "list":
      return list(rest);
    case "revoke":
      return revoke(rest);
    default:
      throw new UsageError(sub ? `unknown tokens command '${sub}'` : "missing tokens command");
  }
}

function parse(args: string[], options: ParseArgsConfig["options"] = {}) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function create(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    project: { type: "string", multiple: true },
    scope: { type: "string", multiple: true },
  });
  const [name, ...extra] = positionals;
  if (!name || extra.length) throw new UsageError("tokens create takes exactly one NAME");
  const body: Record<string, unknown> = { name, projects: values.project ?? [] };
  if (values.scope) body.scopes = values.scope;
  const response = await apiRequest(loadClientEnv(), "POST", "/v1/tokens", body);
  const created = (await response.json()) as TokenView & { token: string };
  process.stderr.write(
    `edgeplane: token ${created.name} (${created.id}) created with scopes ${created.scopes.join(", ")}` +
      `${created.projects.length ? ` for ${created.projects.join(", ")}` : ""}; it is shown only this once\n`,
  );
  process.stdout.write(`${created.token}\n`);
}

async function list(args: string[]): Promise<void> {
  const { positionals } = parse(args);
  if (positionals.length) throw new UsageError("tokens list takes no arguments");
  const response = await apiRequest(loadClientEnv(), "GET", "/v1/tokens");
  const { tokens: rows } = (await response.json()) as { tokens: TokenView[] };
  const table = [
    ["ID", "NAME", "SCOPES", "PROJECTS", "CREATED", "REVOKED"],
    ...rows.map((t) => [
      t.id,
      t.name,
      t.scopes.join(","),
      t.projects.join(",") || "-",
      t.createdAt,
      t.revokedAt ?? "-",
    ]),
  ];
  const widths =
    table[0]?.map((_, column) => Math.max(...table.map((row) => (row[column] ?? "").length))) ?? [];
  for (const row of table) {
    process.stdout.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  }
}

async function revoke(args: string[]): Promise<void> {
  const { positionals } = parse(args);
  const [id, ...extra] = positionals;
  if (!id || extra.length) throw new UsageError("tokens revoke takes exactly one ID");
  const response = await apiRequest(loadClientEnv(), "DELETE", `/v1/tokens/${encodeURIComponent(id)}`);
  const revoked = (await response.json()) as TokenView;
  process.stdout.write(`revoked ${revoked.id} (${revoked.name}) at ${revoked.revokedAt}\n`);
}
