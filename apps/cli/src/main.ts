import { ConfigError } from "@edgeplane/config";
import { up } from "./commands/up.ts";

const USAGE = `usage: edgeplane <command>

commands:
  up        start the API, the workers and the gateway (Ctrl-C stops them all)
`;

const [command] = process.argv.slice(2);
try {
  switch (command) {
    case "up":
      await up();
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
  if (error instanceof ConfigError) {
    process.stderr.write(`edgeplane: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`edgeplane: ${(error as Error).message}\n`);
  process.exit(1);
}
