import { ConfigError } from "@edgeplane/config";
import { CA_USAGE, ca } from "./commands/ca.ts";
import { HOSTS_USAGE, hosts, UsageError } from "./commands/hosts.ts";
import { PROJECTS_USAGE, projects } from "./commands/projects.ts";
import { TOKENS_USAGE, tokens } from "./commands/tokens.ts";
import { up } from "./commands/up.ts";

const USAGE = `usage: edgeplane <command>

commands:
  up        start the API, the workers and the gateway (Ctrl-C stops them all)
  hosts     print (or --write FILE) hosts-file lines for every ready environment
  ca export print the root certificate of edgeplane's local CA
  tokens    create, list and revoke API tokens (tokens --help)
  projects  set-compose PROJECT FILE: run each environment as the file's services (projects --help)
`;

const [command, ...args] = process.argv.slice(2);
try {
  switch (command) {
    case "up":
      await up();
      break;
    case "hosts":
      if (args.includes("--help")) process.stdout.write(HOSTS_USAGE);
      else await hosts(args);
      break;
    case "ca":
      if (args.includes("--help")) process.stdout.write(CA_USAGE);
      else await ca(args);
      break;
    case "tokens":
      if (args.includes("--help")) process.stdout.write(TOKENS_USAGE);
      else await tokens(args);
      break;
    case "projects":
      if (args.includes("--help")) process.stdout.write(PROJECTS_USAGE);
      else await projects(args);
      break;
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(USAGE);
      break;
    default:
      process.stderr.write(`edgeplane: unknown command '${command}'\n\n${USAGE}`);
      process.exit(2);
  }
} catch (error) {
  if (error instanceof UsageError) {
    const usages: Record<string, string> = { ca: CA_USAGE, tokens: TOKENS_USAGE, projects: PROJECTS_USAGE };
    const usage = usages[command ?? ""] ?? HOSTS_USAGE;
    process.stderr.write(`edgeplane: ${error.message}\n\n${usage}`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`edgeplane: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`edgeplane: ${(error as Error).message}\n`);
  process.exit(1);
}
