import { Command, InvalidArgumentError, Option } from "commander";
import { APP_NAMES, type AppName, parseApps } from "./apps.ts";
import { ca } from "./commands/ca.ts";
import { deploy } from "./commands/deploy.ts";
import { destroy } from "./commands/destroy.ts";
import { hosts } from "./commands/hosts.ts";
import { logs } from "./commands/logs.ts";
import { ls } from "./commands/ls.ts";
import { open } from "./commands/open.ts";
import { projects } from "./commands/projects.ts";
import { listProjects, showProject } from "./commands/projects-read.ts";
import { status } from "./commands/status.ts";
import { tokens } from "./commands/tokens.ts";

const SETTINGS = `
Settings (flags win over the environment):
  --api-url URL   EDGEPLANE_API_URL     the API (default http://127.0.0.1:3000)
  --token TOKEN   EDGEPLANE_TOKEN       a token; else the admin token in EDGEPLANE_STATE_DIR (.edgeplane)
                  EDGEPLANE_PROJECT     the project when --project is not given (else the only one)
Exit codes: 0 done, 1 failed (the reason and what to do next on stderr), 2 bad usage, 78 bad settings.
`;

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("a whole number of seconds above 0");
  return n;
}

const projectOption = () =>
  new Option("-p, --project <name>", "the project (default: EDGEPLANE_PROJECT, or the only one)");
const jsonOption = () => new Option("--json", "JSON for machines");

/** The `edgeplane` command line: every command, its flags and its help, parsed by commander. */
export function buildProgram(): Command {
  const program = new Command("edgeplane")
    .description("edgeplane: preview environments on your own machines")
    .option("--api-url <url>", "the API's address (EDGEPLANE_API_URL)")
    .option("--token <token>", "the token to call the API with (EDGEPLANE_TOKEN)")
    .addHelpText("after", SETTINGS)
    .configureOutput({ outputError: (text, write) => write(`edgeplane: ${text.replace(/^error: /, "")}`) })
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .hook("preAction", (_command, action) => {
      // every command reads its settings from the environment: the flags are set there
      const { apiUrl, token } = action.optsWithGlobals<{ apiUrl?: string; token?: string }>();
      if (apiUrl) process.env.EDGEPLANE_API_URL = apiUrl;
      if (token) process.env.EDGEPLANE_TOKEN = token;
    });

  program
    .command("up")
    .description("start the API, the workers and the gateway (Ctrl-C stops them all)")
    .option(
      "--only <apps>",
      `start only these, comma-separated (default: all): ${APP_NAMES.join(", ")}`,
      parseApps,
    )
    .addHelpText(
      "after",
      "\nThe gateway (nginx) runs with worker-ingress: one per cluster. With --only nothing is generated:\n" +
        "the keys come from EDGEPLANE_STATE_DIR (edgeplane keys makes them once) or their variables.\n",
    )
    // loaded when used: `up` brings the gateway, the database and the pipeline, which no other command needs
    .action(async (options: { only?: AppName[] }) => {
      const { up } = await import("./commands/up.ts");
      await up(options.only === undefined ? {} : { only: options.only });
    });

  program
    .command("keys")
    .description("make an edgeplane's keys once (never replacing one), and say which app needs each")
    .option("--dir <dir>", "where (default: EDGEPLANE_STATE_DIR, or .edgeplane)")
    .action(async (options: { dir?: string }) => {
      const { keys } = await import("./commands/keys.ts");
      await keys(options);
    });

  program
    .command("deploy")
    .description("deploy an image to an environment and follow it until it is ready (or fails)")
    .addOption(projectOption())
    .requiredOption("-e, --env <name>", "the environment, e.g. pr-1908 or staging (created if new)")
    .option("-i, --image <ref>", "the image to run (a compose project: its primary service's)")
    .option("--images <service=ref...>", "a compose project: images per service", collect)
    .option("--set <service.KEY=VALUE>", "a compose project: a value for one service (repeatable)", collect)
    .option("--no-wait", "print the deployment id and URL and return at once")
    .addOption(jsonOption())
    .option(
      "--timeout <seconds>",
      "give up waiting after this long (the deployment goes on)",
      positiveSeconds,
      900,
    )
    .addHelpText(
      "after",
      "\nOn a terminal each phase shows live with its time; otherwise one line per phase (`staging +0.2s`).\n" +
        "Ends with the URL when ready (exit 0); failed or superseded: the reason on stderr, exit 1.\n",
    )
    .action((options) => deploy(options));

  program
    .command("status")
    .description("a deployment (dep_…) with its events, or an environment")
    .argument("<deployment-or-env>", "a deployment id (dep_…) or an environment name")
    .addOption(projectOption())
    .addOption(jsonOption())
    .action((target: string, options) => status(target, options));

  program
    .command("ls")
    .description("environments: project, env, status, URL, image, age")
    .option("-p, --project <name>", "only this project's (default: every project your token can read)")
    .addOption(jsonOption())
    .action((options) => ls(options));

  program
    .command("logs")
    .description("an environment's container output")
    .argument("<env>", "the environment")
    .addOption(projectOption())
    .option("-f, --follow", "keep printing what it writes (Ctrl-C stops)", false)
    .option("-n, --tail <lines>", "lines from the end (at most 10000)", "100")
    .option("-s, --service <name>", "one service of a compose environment")
    .action((environment: string, options) => logs(environment, options));

  program
    .command("destroy")
    .description("tear an environment down: its container, route and data")
    .argument("<env>", "the environment")
    .addOption(projectOption())
    .action((environment: string, options) => destroy(environment, options));

  program
    .command("open")
    .description("print an environment's URL (and open it in a browser, on a terminal with xdg-open)")
    .argument("<env>", "the environment")
    .addOption(projectOption())
    .action((environment: string, options) => open(environment, options));

  program
    .command("hosts")
    .description("print (or --write FILE) hosts-file lines for every ready environment")
    .option("--write <file>", "update the edgeplane block of FILE in place (e.g. /etc/hosts); safe to repeat")
    .option("--address <ip>", "the gateway's address (default: EDGEPLANE_GATEWAY_HOST, or 127.0.0.1)")
    .action((options: { write?: string; address?: string }) =>
      hosts([
        ...(options.write !== undefined ? ["--write", options.write] : []),
        ...(options.address !== undefined ? ["--address", options.address] : []),
      ]),
    );

  const caCommand = program.command("ca").description("edgeplane's local certificate authority");
  caCommand
    .command("export")
    .description("print the local CA's root certificate (PEM), to trust for projects with local TLS")
    .action(() => ca(["export"]));

  const tokensCommand = program
    .command("tokens")
    .description("create, list and revoke API tokens (needs the admin token or scope)");
  tokensCommand
    .command("create")
    .description("a token for CI: shown once, stored hashed (default scopes: deploy, read)")
    .argument("<name>", "a name for the token")
    .option("--project <name>", "a project it may act on (repeatable)", collect)
    .option("--scope <scope>", "deploy, read or admin (repeatable)", collect)
    .action((name: string, options: { project?: string[]; scope?: string[] }) =>
      tokens([
        "create",
        name,
        ...(options.project ?? []).flatMap((p) => ["--project", p]),
        ...(options.scope ?? []).flatMap((s) => ["--scope", s]),
      ]),
    );
  tokensCommand
    .command("list")
    .description("every token: id, name, scopes, projects, created, revoked")
    .action(() => tokens(["list"]));
  tokensCommand
    .command("revoke")
    .description("the token is refused from then on")
    .argument("<id>", "the token's id (tok_…)")
    .action((id: string) => tokens(["revoke", id]));

  const projectsCommand = program.command("projects").description("projects: list, show, compose files");
  projectsCommand
    .command("ls")
    .description("the projects your token can see")
    .addOption(jsonOption())
    .action((options: { json?: boolean }) => listProjects({ json: options.json === true }));
  projectsCommand
    .command("show")
    .description("one project's settings")
    .argument("<name>", "the project")
    .addOption(jsonOption())
    .action((name: string, options: { json?: boolean }) =>
      showProject(name, { json: options.json === true }),
    );
  projectsCommand
    .command("set-compose")
    .description("give the project a docker-compose file: each environment runs its services")
    .argument("<project>", "the project")
    .argument("<file>", "the compose file")
    .action((project: string, file: string) => projects(["set-compose", project, file]));
  projectsCommand
    .command("unset-compose")
    .description("back to one container per environment")
    .argument("<project>", "the project")
    .action((project: string) => projects(["unset-compose", project]));

  return program;
}
