import { ConfigError } from "@edgeplane/config";
import { CommanderError } from "commander";
import { UsageError } from "./commands/hosts.ts";
import { buildProgram } from "./program.ts";

// `edgeplane <command>`: commander parses; each command lives in commands/. Exit codes: 0 done,
// 1 failed (`edgeplane: <message>` on stderr, saying what to do next), 2 bad usage, 78 bad settings.
const program = buildProgram();
try {
  if (process.argv.length <= 2) program.help(); // `edgeplane` alone: the usage, exit 0
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help ends here too (exit code 0); anything else is a usage error commander has printed
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (error instanceof UsageError) {
    process.stderr.write(`edgeplane: ${error.message}\n(add --help for usage)\n`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`edgeplane: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`edgeplane: ${(error as Error).message}\n`);
  process.exit(1);
}
