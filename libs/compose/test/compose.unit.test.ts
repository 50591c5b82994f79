// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's variable syntax is ${NAME}; these are compose values, not templates
import { describe, expect, it } from "vitest";
import {
  type ComposeApp,
  ComposeError,
  edgeplaneVariables,
  interpolate,
  parseCompose,
  referencedVariables,
  type ServiceSpec,
  startOrder,
} from "../src/index.ts";

/** The path and message of the ComposeError that parsing `text` throws. */
function refusal(text: string, options?: { maxServices?: number }): { path: string; message: string } {
  try {
    parseCompose(text, options);
  } catch (error) {
    if (error instanceof ComposeError) return { path: error.path, message: error.message };
    throw error;
  }
  throw new Error("parsed without a ComposeError");
}

/** A file with one service `web` (image nginx:1.27) and the given lines of its body, plus more top-level YAML. */
function web(body: string, topLevel = ""): string {
  const indented = body
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
  return `services:\n  web:\n    image: nginx:1.27\n${indented}\n${topLevel}`;
}

/** The one service of `web(body, topLevel)`. */
function webService(body: string, topLevel = ""): ServiceSpec {
  const [service] = parseCompose(web(body, topLevel)).services;
  if (!service) throw new Error("no service");
  return service;
}

const NO_LIMITS = { memoryMb: null, cpuMillis: null };

const REALISTIC = `
name: shop
x-app: &app
  image: ghcr.io/acme/shop-api:sha-1a2b3c
  environment: &app-env
    DATABASE_URL: postgres://shop:shop@db:5432/shop
    PUBLIC_URL: \${EDGEPLANE_URL}
    ENVIRONMENT: \${EDGEPLANE_ENVIRONMENT}

services:
  web:
    image: ghcr.io/acme/shop-web:sha-1a2b3c
    ports:
      - "8080:3000"
    environment:
      API_URL: http://api:8000
      PUBLIC_API_URL: \${EDGEPLANE_URL_API}
      PORT: 3000
    depends_on:
      - api
    restart: unless-stopped
    labels:
      team: storefront

  api:
    <<: *app
    command: uvicorn shop.main:app --host 0.0.0.0 --port "8000"
    expose:
      - "8000"
    healthcheck:
      test: ["CMD", "curl", "-fsS", "http://localhost:8000/health"]
      interval: 10s
      timeout: 2s
      retries: 5
      start_period: 1m30s
    depends_on:
      db:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
    deploy:
      resources:
        limits:
          memory: 512M
          cpus: "0.5"

  migrate:
    <<: *app
    command: ["alembic", "upgrade", "head"]
    depends_on:
      db:
        condition: service_healthy

  worker:
    <<: *app
    entrypoint: ["python", "-m"]
    command: shop.worker
    environment:
      <<: *app-env
      QUEUE: default
      DEBUG: false
    depends_on: [db]
    x-notes: runs the background jobs

  db:
    image: postgres:16-alpine
    environment:
      - POSTGRES_USER=shop
      - POSTGRES_PASSWORD=shop
      - POSTGRES_DB=shop
    healthcheck:
      test: pg_isready -U $$POSTGRES_USER
      interval: 5s
    volumes:
      - pgdata:/var/lib/postgresql/data
    deploy:
      resources:
        limits:
          memory: 1g

volumes:
  pgdata:
    x-edgeplane:
      seedFrom: staging
`;

const APP_ENV = {
  DATABASE_URL: "postgres://shop:shop@db:5432/shop",
  PUBLIC_URL: "${EDGEPLANE_URL}",
  ENVIRONMENT: "${EDGEPLANE_ENVIRONMENT}",
};

describe("a realistic app", () => {
  const app = parseCompose(REALISTIC);

  it("reads every service in file order with its settings and defaults", () => {
    const expected: ComposeApp = {
      services: [
        {
          name: "web",
          image: "ghcr.io/acme/shop-web:sha-1a2b3c",
          command: null,
          entrypoint: null,
          environment: { API_URL: "http://api:8000", PUBLIC_API_URL: "${EDGEPLANE_URL_API}", PORT: "3000" },
          port: 3000,
          healthcheck: null,
          dependsOn: [{ service: "api", condition: "service_started" }],
          volumes: [],
          limits: NO_LIMITS,
          oneShot: false,
          workingDir: null,
          user: null,
        },
        {
          name: "api",
          image: "ghcr.io/acme/shop-api:sha-1a2b3c",
          command: ["uvicorn", "shop.main:app", "--host", "0.0.0.0", "--port", "8000"],
          entrypoint: null,
          environment: APP_ENV,
          port: 8000,
          healthcheck: {
            test: ["CMD", "curl", "-fsS", "http://localhost:8000/health"],
            intervalMs: 10_000,
            timeoutMs: 2_000,
            retries: 5,
            startPeriodMs: 90_000,
          },
          dependsOn: [
            { service: "db", condition: "service_healthy" },
            { service: "migrate", condition: "service_completed_successfully" },
          ],
          volumes: [],
          limits: { memoryMb: 512, cpuMillis: 500 },
          oneShot: false,
          workingDir: null,
          user: null,
        },
        {
          name: "migrate",
          image: "ghcr.io/acme/shop-api:sha-1a2b3c",
          command: ["alembic", "upgrade", "head"],
          entrypoint: null,
          environment: APP_ENV,
          port: null,
          healthcheck: null,
          dependsOn: [{ service: "db", condition: "service_healthy" }],
          volumes: [],
          limits: NO_LIMITS,
          oneShot: true,
          workingDir: null,
          user: null,
        },
        {
          name: "worker",
          image: "ghcr.io/acme/shop-api:sha-1a2b3c",
          command: ["shop.worker"],
          entrypoint: ["python", "-m"],
          environment: { ...APP_ENV, QUEUE: "default", DEBUG: "false" },
          port: null,
          healthcheck: null,
          dependsOn: [{ service: "db", condition: "service_started" }],
          volumes: [],
          limits: NO_LIMITS,
          oneShot: false,
          workingDir: null,
          user: null,
        },
        {
          name: "db",
          image: "postgres:16-alpine",
          command: null,
          entrypoint: null,
          environment: { POSTGRES_USER: "shop", POSTGRES_PASSWORD: "shop", POSTGRES_DB: "shop" },
          port: null,
          healthcheck: {
            test: ["CMD-SHELL", "pg_isready -U $POSTGRES_USER"],
            intervalMs: 5_000,
            timeoutMs: 30_000,
            retries: 3,
            startPeriodMs: 0,
          },
          dependsOn: [],
          volumes: [{ volume: "pgdata", target: "/var/lib/postgresql/data", readOnly: false }],
          limits: { memoryMb: 1024, cpuMillis: null },
          oneShot: false,
          workingDir: null,
          user: null,
        },
      ],
      volumes: [{ name: "pgdata", seedFrom: "staging" }],
      primaryService: "web",
    };
    expect(app).toEqual(expected);
  });

  it("starts the database, then the migration and the worker, then the api, then the web", () => {
    expect(startOrder(app)).toEqual([["db"], ["migrate", "worker"], ["api"], ["web"]]);
  });

  it("provides a URL variable for each service with a port", () => {
    expect(edgeplaneVariables(app)).toEqual([
      "EDGEPLANE_ENVIRONMENT",
      "EDGEPLANE_URL",
      "EDGEPLANE_URL_WEB",
      "EDGEPLANE_URL_API",
    ]);
  });

  it("fills in the environment values at deploy time", () => {
    const vars = {
      EDGEPLANE_ENVIRONMENT: "pr-12",
      EDGEPLANE_URL: "https://pr-12.preview.test",
      EDGEPLANE_URL_WEB: "https://pr-12.preview.test",
      EDGEPLANE_URL_API: "https://api--pr-12.preview.test",
    };
    const values = app.services.map((service) =>
      Object.fromEntries(
        Object.entries(service.environment).map(([key, value]) => [key, interpolate(value, vars)]),
      ),
    );
    expect(values[0]).toEqual({
      API_URL: "http://api:8000",
      PUBLIC_API_URL: "https://api--pr-12.preview.test",
      PORT: "3000",
    });
    expect(values[1]).toEqual({
      DATABASE_URL: "postgres://shop:shop@db:5432/shop",
      PUBLIC_URL: "https://pr-12.preview.test",
      ENVIRONMENT: "pr-12",
    });
  });
});

describe("refused service keys", () => {
  it.each([
    ["build: .", "services.web.build: not supported: images are built by CI and deployed by reference"],
    ["privileged: true", "services.web.privileged: not allowed: a preview service cannot run privileged"],
    [
      "cap_add: [NET_ADMIN]",
      "services.web.cap_add: not allowed: a preview service cannot gain Linux capabilities",
    ],
    [
      "network_mode: host",
      "services.web.network_mode: not allowed: edgeplane gives each environment its own network, where services reach each other by name",
    ],
    [
      "networks: [front]",
      "services.web.networks: not supported: edgeplane gives each environment its own network, where services reach each other by name",
    ],
    ["pid: host", "services.web.pid: not allowed: a preview service cannot share a PID namespace"],
    ["ipc: host", "services.web.ipc: not allowed: a preview service cannot share an IPC namespace"],
    [
      "devices: [/dev/fuse]",
      "services.web.devices: not allowed: a preview service cannot use the host's devices",
    ],
    [
      'extra_hosts: ["a:1.2.3.4"]',
      "services.web.extra_hosts: not supported: edgeplane gives each environment its own network, where services reach each other by name",
    ],
    [
      "volumes_from: [db]",
      "services.web.volumes_from: not supported: mount a named volume in each service instead",
    ],
    [
      "security_opt: [seccomp=unconfined]",
      "services.web.security_opt: not allowed: a preview service cannot change its security profile",
    ],
    [
      "userns_mode: host",
      "services.web.userns_mode: not allowed: a preview service cannot change its user namespace",
    ],
    [
      "container_name: web",
      "services.web.container_name: not supported: edgeplane names containers, one set per environment",
    ],
    [
      "links: [db]",
      "services.web.links: not supported: edgeplane gives each environment its own network, where services reach each other by name",
    ],
    [
      "external_links: [redis]",
      "services.web.external_links: not allowed: a preview service cannot reach containers outside its environment",
    ],
    [
      "sysctls: {net.core.somaxconn: 1024}",
      "services.web.sysctls: not allowed: a preview service cannot change kernel parameters",
    ],
    [
      "ulimits: {nofile: 1024}",
      "services.web.ulimits: not supported: set limits under deploy.resources.limits",
    ],
    [
      "cgroup_parent: x",
      "services.web.cgroup_parent: not allowed: a preview service cannot choose its cgroup",
    ],
    [
      "env_file: .env",
      "services.web.env_file: not supported: put values in environment or the project's env",
    ],
    [
      "secrets: [token]",
      "services.web.secrets: not supported: put values in environment or the project's env",
    ],
    ["configs: [nginx]", "services.web.configs: not supported: bake configuration files into the image"],
    ["dns: 8.8.8.8", "services.web.dns: not supported: the environment's network resolves names"],
    ["profiles: [debug]", "services.web.profiles: not supported: every service of the file is deployed"],
    [
      "extends: {service: base}",
      "services.web.extends: not supported: write each service in full (YAML anchors and merge keys work)",
    ],
    [
      "runtime: runc",
      "services.web.runtime: not allowed: a preview service cannot choose its container runtime",
    ],
    ["tmpfs: /run", "services.web.tmpfs: not supported: tmpfs mounts are not offered; use a named volume"],
    ["shm_size: 1g", "services.web.shm_size: not supported: the size of /dev/shm is not configurable"],
    ["mem_limit: 1g", "services.web.mem_limit: not supported: set limits under deploy.resources.limits"],
    ["hostname: web", "services.web.hostname: not supported: edgeplane names the hosts of an environment"],
    ["stdin_open: true", "services.web.stdin_open: not supported"],
    ["toString: x", "services.web.toString: not supported"],
  ])("%s", (line, message) => {
    const key = line.slice(0, line.indexOf(":"));
    expect(refusal(web(line))).toEqual({ path: `services.web.${key}`, message });
  });

  it("ignores restart, labels and x- keys", () => {
    const service = webService("restart: always\nlabels: [a=b]\nx-anything: {deep: [1]}");
    expect(service.name).toBe("web");
  });
});

describe("top-level keys", () => {
  it.each([
    [
      "networks: {front: {}}",
      "networks: not supported: edgeplane gives each environment its own network, where services reach each other by name",
    ],
    [
      "configs: {nginx: {file: ./nginx.conf}}",
      "configs: not supported: bake configuration files into the image",
    ],
    [
      "secrets: {token: {file: ./token}}",
      "secrets: not supported: put values in environment or the project's env",
    ],
    ["include: [other.yml]", "include: not supported: write the whole application in one file"],
    ["services2: {}", "services2: not supported"],
  ])("refuses %s", (line, message) => {
    expect(refusal(web("", line))).toEqual({ path: line.slice(0, line.indexOf(":")), message });
  });

  it("ignores name, version and x- keys", () => {
    const app = parseCompose(`version: "3.9"\nname: shop\nx-defaults: {a: 1}\n${web("")}`);
    expect(app.services.map((service) => service.name)).toEqual(["web"]);
  });

  it.each([
    ["", { path: "", message: "the compose file is empty: it needs services" }],
    ["- web", { path: "", message: "the compose file must be a mapping, not a list" }],
    ["volumes: {}", { path: "services", message: "services: is required" }],
    ["services: {}", { path: "services", message: "services: must name at least one service" }],
    ["services: [web]", { path: "services", message: "services: must be a mapping, not a list" }],
    ["services:\n  web:", { path: "services.web", message: "services.web: must be a mapping, not null" }],
  ])("refuses a file without services: %j", (text, expected) => {
    expect(refusal(text)).toEqual(expected);
  });
});

describe("service names", () => {
  it.each([
    [
      "api--v2",
      'services.api--v2: service name must not contain "--": hostnames are {service}--{environment}',
    ],
    [
      "Web",
      "services.Web: service name must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'",
    ],
    [
      "my_app",
      "services.my_app: service name must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'",
    ],
    [
      "-web",
      "services.-web: service name must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'",
    ],
    [
      "a".repeat(64),
      `services.${"a".repeat(64)}: service name must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'`,
    ],
  ])("refuses %s", (name, message) => {
    expect(refusal(`services:\n  ${name}:\n    image: nginx:1.27\n`)).toEqual({
      path: `services.${name}`,
      message,
    });
  });

  it("accepts a single '-' and digits", () => {
    expect(parseCompose("services:\n  api-v2:\n    image: nginx:1.27\n").services[0]?.name).toBe("api-v2");
  });

  it("refuses more services than allowed", () => {
    const three = "services:\n  a: {}\n  b: {}\n  c: {}\n";
    expect(refusal(three, { maxServices: 2 })).toEqual({
      path: "services",
      message: "services: 3 services, more than the 2 allowed",
    });
    const many = (count: number) =>
      `services:\n${Array.from({ length: count }, (_, index) => `  s${index}: {}\n`).join("")}`;
    expect(parseCompose(many(20)).services).toHaveLength(20);
    expect(refusal(many(21))).toEqual({
      path: "services",
      message: "services: 21 services, more than the 20 allowed",
    });
  });
});

describe("image", () => {
  it("may be left out for the deploy request to give", () => {
    expect(parseCompose("services:\n  web:\n    ports: [80]\n").services[0]?.image).toBe(null);
  });
  it("must carry a tag or a digest", () => {
    expect(refusal("services:\n  web:\n    image: nginx\n")).toEqual({
      path: "services.web.image",
      message: "services.web.image: image reference needs a tag or a digest, e.g. :sha-1a2b3c",
    });
  });
});

describe("ports", () => {
  it.each([
    ["ports: [80]", 80],
    ['ports: ["80"]', 80],
    ['ports: ["8080:80"]', 80],
    ["ports: [8080:80]", 80],
    ['ports: ["127.0.0.1:8080:80"]', 80],
    ['ports: ["[::1]:8080:80"]', 80],
    ['ports: ["80/tcp"]', 80],
    ['ports: ["8000-8005:3000/tcp"]', 3000],
    ["ports: [{target: 80, published: 8080, host_ip: 127.0.0.1, protocol: tcp, mode: host}]", 80],
    ['expose: ["3000"]', 3000],
    ["expose: [3000]", 3000],
    ['expose: ["3000/tcp"]', 3000],
    ['ports: ["8080:80", "9090:90"]', 80],
    ['ports: ["8080:80"]\nexpose: [3000]', 80],
    ["ports: []\nexpose: [3000, 4000]", 3000],
    ["command: [serve]", null],
  ])("%s → %j", (body, port) => {
    expect(webService(body).port).toBe(port);
  });

  it.each([
    [
      'ports: ["53:53/udp"]',
      "services.web.ports[0]",
      "udp is not supported: the gateway routes HTTP over TCP",
    ],
    [
      'ports: ["80", "53/udp"]',
      "services.web.ports[1]",
      "udp is not supported: the gateway routes HTTP over TCP",
    ],
    [
      "ports: [{target: 53, protocol: udp}]",
      "services.web.ports[0].protocol",
      "udp is not supported: the gateway routes HTTP over TCP",
    ],
    [
      'expose: ["53/udp"]',
      "services.web.expose[0]",
      "udp is not supported: the gateway routes HTTP over TCP",
    ],
    ['ports: ["80/sctp"]', "services.web.ports[0]", 'unknown protocol "sctp": only tcp is supported'],
    ['ports: ["3000-3005"]', "services.web.ports[0]", "port ranges are not supported: give one port"],
    ["ports: [0]", "services.web.ports[0]", '"0" must be a port number from 1 to 65535'],
    ['ports: ["8080:70000"]', "services.web.ports[0]", '"70000" must be a port number from 1 to 65535'],
    ["ports: [http]", "services.web.ports[0]", '"http" must be a port number from 1 to 65535'],
    ["ports: [{published: 8080}]", "services.web.ports[0].target", "must be a port number from 1 to 65535"],
    ["ports: [{target: 80, weight: 1}]", "services.web.ports[0].weight", "not supported"],
    ["ports: 80", "services.web.ports", "must be a list, not a number"],
    [
      "expose: [[80]]",
      "services.web.expose[0]",
      'must be a port number from 1 to 65535, such as 80 or "80/tcp"',
    ],
  ])("refuses %s", (body, path, reason) => {
    expect(refusal(web(body))).toEqual({ path, message: `${path}: ${reason}` });
  });
});

describe("primary service", () => {
  it("is the first service in file order with a port", () => {
    const app = parseCompose(`services:
  worker: {image: "acme/worker:1"}
  admin: {image: "acme/admin:1", expose: [9000]}
  web: {image: "acme/web:1", ports: ["80:3000"]}
`);
    expect(app.primaryService).toBe("admin");
    expect(edgeplaneVariables(app)).toEqual([
      "EDGEPLANE_ENVIRONMENT",
      "EDGEPLANE_URL",
      "EDGEPLANE_URL_ADMIN",
      "EDGEPLANE_URL_WEB",
    ]);
  });

  it("is null when no service has a port", () => {
    const app = parseCompose(
      "services:\n  worker: {image: 'acme/worker:1'}\n  cron: {image: 'acme/cron:1'}\n",
    );
    expect(app.primaryService).toBe(null);
    expect(edgeplaneVariables(app)).toEqual(["EDGEPLANE_ENVIRONMENT", "EDGEPLANE_URL"]);
  });

  it("names the URL variable of a hyphenated service with underscores", () => {
    const app = parseCompose("services:\n  admin-ui: {ports: [80]}\n");
    expect(edgeplaneVariables(app)).toEqual([
      "EDGEPLANE_ENVIRONMENT",
      "EDGEPLANE_URL",
      "EDGEPLANE_URL_ADMIN_UI",
    ]);
  });
});

describe("command and entrypoint", () => {
  it.each([
    ["command: npm start", ["npm", "start"]],
    ["command: sh -c 'echo \"hi there\" && sleep 1'", ["sh", "-c", 'echo "hi there" && sleep 1']],
    ['command: "echo \\"a b\\" c\\\\ d \\"\\""', ["echo", "a b", "c d", ""]],
    ['command: "printf \\"%s\\\\\\\\n\\" x"', ["printf", "%s\\n", "x"]],
    ['command: "a\\tb"', ["a", "b"]],
    ["command: echo $$HOME", ["echo", "$HOME"]],
    ["command: [sleep, 10]", ["sleep", "10"]],
    ["command: []", []],
    ["command: ''", []],
    ["entrypoint: [/bin/sh, -c]", ["/bin/sh", "-c"]],
  ])("%s", (body, words) => {
    const service = webService(body);
    expect(body.startsWith("entrypoint") ? service.entrypoint : service.command).toEqual(words);
  });

  it.each([
    ["command: echo 'unclosed", "services.web.command", "has an unclosed quote or ends in a backslash"],
    [
      "command: echo ${HOME}",
      "services.web.command",
      "refers to $HOME: variables are substituted only in environment values; write $$ for a literal $",
    ],
    ["entrypoint: {a: 1}", "services.web.entrypoint", "must be a string or a list of strings, not a mapping"],
    [
      "command: [echo, [x]]",
      "services.web.command[1]",
      "must be a string, a number or a boolean, not a list",
    ],
  ])("refuses %s", (body, path, reason) => {
    expect(refusal(web(body))).toEqual({ path, message: `${path}: ${reason}` });
  });
});

describe("environment", () => {
  it("reads the mapping form, writing out numbers and booleans", () => {
    expect(webService("environment:\n  A: x\n  B: 42\n  C: true\n  D: 1.5\n  E: ''").environment).toEqual({
      A: "x",
      B: "42",
      C: "true",
      D: "1.5",
      E: "",
    });
  });

  it("reads the list form, splitting at the first '='", () => {
    expect(webService("environment:\n  - A=x\n  - B=a=b\n  - C=").environment).toEqual({
      A: "x",
      B: "a=b",
      C: "",
    });
  });

  it.each([
    [
      "environment: [A]",
      "services.web.environment[0]",
      '"A" has no value: there is no host environment to take it from; write A=value',
    ],
    [
      "environment:\n  A:",
      "services.web.environment.A",
      "has no value: there is no host environment to take it from; give one",
    ],
    [
      "environment:\n  A: [1]",
      "services.web.environment.A",
      "must be a string, a number or a boolean, not a list",
    ],
    ["environment: [A=1, A=2]", "services.web.environment.A", "is set twice"],
    [
      "environment: ['=x']",
      "services.web.environment[0]",
      "\"\" is not a variable name: no '=', spaces or empty names",
    ],
    [
      "environment: A=1",
      "services.web.environment",
      'must be a mapping or a list of "KEY=value", not a string',
    ],
    ["environment: [1]", "services.web.environment[0]", 'must be a string "KEY=value", not a number'],
  ])("refuses %s", (body, path, reason) => {
    expect(refusal(web(body))).toEqual({ path, message: `${path}: ${reason}` });
  });

  it("refuses a variable edgeplane does not provide, listing those it does", () => {
    expect(refusal(web("ports: [80]\nenvironment:\n  TOKEN: ${GITHUB_TOKEN}"))).toEqual({
      path: "services.web.environment.TOKEN",
      message:
        "services.web.environment.TOKEN: $GITHUB_TOKEN is not a variable edgeplane provides; available: EDGEPLANE_ENVIRONMENT, EDGEPLANE_URL, EDGEPLANE_URL_WEB",
    });
  });

  it("refuses the URL variable of a service without a port, and one hidden in a default", () => {
    const text = 'services:\n  web:\n    environment: ["A=${EDGEPLANE_URL_WORKER}"]\n  worker: {}\n';
    expect(refusal(text).message).toBe(
      "services.web.environment.A: $EDGEPLANE_URL_WORKER is not a variable edgeplane provides; available: EDGEPLANE_ENVIRONMENT, EDGEPLANE_URL",
    );
    expect(refusal(web("environment:\n  A: ${EDGEPLANE_URL:-$HOME}")).message).toBe(
      "services.web.environment.A: $HOME is not a variable edgeplane provides; available: EDGEPLANE_ENVIRONMENT, EDGEPLANE_URL",
    );
  });

  it("refuses malformed references and keeps $$ for deploy time", () => {
    expect(refusal(web("environment:\n  A: cost $5"))).toEqual({
      path: "services.web.environment.A",
      message:
        'services.web.environment.A: invalid variable reference at "$5": use ${NAME}, ${NAME:-default}, ${NAME-default} or $NAME; write $$ for a literal $',
    });
    expect(webService("environment:\n  A: cost $$5").environment).toEqual({ A: "cost $$5" });
  });
});

describe("interpolate", () => {
  const vars = { A: "x", EMPTY: "", B_C: "y" };
  it.each([
    ["${A}", "x"],
    ["$A", "x"],
    ["pre-${A}-post", "pre-x-post"],
    ["$A/$B_C", "x/y"],
    ["${MISSING}", ""],
    ["$MISSING", ""],
    ["${MISSING:-d}", "d"],
    ["${MISSING-d}", "d"],
    ["${EMPTY:-d}", "d"],
    ["${EMPTY-d}", ""],
    ["${A:-d}", "x"],
    ["${MISSING:-}", ""],
    ["${MISSING:-a b-c:d}", "a b-c:d"],
    ["${MISSING:-${A}}", "x"],
    ["${MISSING:-$$A}", "$A"],
    ["$$", "$"],
    ["$$A", "$A"],
    ["$$$A", "$x"],
    ["${constructor}", ""],
    ["no variables", "no variables"],
  ])("%s → %j", (value, expected) => {
    expect(interpolate(value, vars)).toBe(expected);
  });

  it.each(["${", "${A", "${A:-x", "$", "end $", "$1", "${1}", "${A:?required}", "${A:+alt}", "${A/x/y}"])(
    "throws a ComposeError on %j",
    (value) => {
      expect(() => interpolate(value, vars)).toThrow(ComposeError);
    },
  );
});

describe("referencedVariables", () => {
  it.each([
    ["${A} $B $$C ${D:-${E}} ${A}", ["A", "B", "D", "E"]],
    ["$$HOME", []],
    ["plain", []],
    ["${URL-http://$HOST:8080}", ["URL", "HOST"]],
  ])("%s → %j", (value, names) => {
    expect(referencedVariables(value)).toEqual(names);
  });
});

describe("healthcheck", () => {
  it.each([
    ["healthcheck:\n  test: curl -f http://localhost/", ["CMD-SHELL", "curl -f http://localhost/"]],
    ["healthcheck:\n  test: [CMD, curl, -f, http://localhost/]", ["CMD", "curl", "-f", "http://localhost/"]],
    [
      'healthcheck:\n  test: [CMD-SHELL, "curl -f http://localhost/ || exit 1"]',
      ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
    ],
  ])("reads %j", (body, test) => {
    expect(webService(body).healthcheck).toEqual({
      test,
      intervalMs: 30_000,
      timeoutMs: 30_000,
      retries: 3,
      startPeriodMs: 0,
    });
  });

  it.each([
    "healthcheck:\n  test: [NONE]",
    "healthcheck:\n  disable: true",
    "healthcheck:\n  test: [CMD, 'true']\n  disable: true",
  ])("is off with %j", (body) => {
    expect(webService(body).healthcheck).toBe(null);
  });

  it.each([
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1h", 3_600_000],
    ["1.5s", 1_500],
    ["2m", 120_000],
    ["1h2m3s4ms", 3_723_004],
    ["1500us", null],
    ["10", null],
    ["10x", null],
    ["", null],
    ["-1s", null],
    ["1s ", null],
  ])("reads the interval %j as %j ms", (interval, ms) => {
    const body = `healthcheck:\n  test: [CMD, 'true']\n  interval: "${interval}"`;
    if (ms === null) {
      expect(refusal(web(body))).toEqual({
        path: "services.web.healthcheck.interval",
        message: `services.web.healthcheck.interval: "${interval}" must be a duration such as 10s, 1m30s or 500ms (whole milliseconds)`,
      });
    } else {
      expect(webService(body).healthcheck?.intervalMs).toBe(ms);
    }
  });

  it.each([
    [
      "healthcheck:\n  interval: 5s",
      "services.web.healthcheck.test",
      "is required: edgeplane does not use the image's HEALTHCHECK",
    ],
    [
      "healthcheck:\n  test: [CMD]",
      "services.web.healthcheck.test",
      'must be ["CMD", program, ...args], ["CMD-SHELL", "shell line"], a shell line, or ["NONE"]',
    ],
    [
      "healthcheck:\n  test: [curl, -f]",
      "services.web.healthcheck.test",
      'must be ["CMD", program, ...args], ["CMD-SHELL", "shell line"], a shell line, or ["NONE"]',
    ],
    [
      "healthcheck:\n  test: [CMD, 'true']\n  interval: 10",
      "services.web.healthcheck.interval",
      "must be a duration such as 10s, 1m30s or 500ms",
    ],
    [
      "healthcheck:\n  test: [CMD, 'true']\n  timeout: 0s",
      "services.web.healthcheck.timeout",
      "must be longer than 0",
    ],
    [
      "healthcheck:\n  test: [CMD, 'true']\n  retries: 0",
      "services.web.healthcheck.retries",
      "must be at least 1",
    ],
    [
      "healthcheck:\n  test: [CMD, 'true']\n  retries: 2.5",
      "services.web.healthcheck.retries",
      "must be a whole number of at least 1",
    ],
    ["healthcheck:\n  test: [CMD, 'true']\n  probes: 3", "services.web.healthcheck.probes", "not supported"],
    ["healthcheck: curl", "services.web.healthcheck", "must be a mapping"],
  ])("refuses %j", (body, path, reason) => {
    expect(refusal(web(body))).toEqual({ path, message: `${path}: ${reason}` });
  });
});

describe("deploy.resources.limits", () => {
  it.each([
    ['memory: "512M"', 512],
    ["memory: 1g", 1024],
    ['memory: "268435456"', 256],
    ["memory: 268435456", 256],
    ["memory: 512m", 512],
    ["memory: 1.5G", 1536],
    ["memory: 512MB", 512],
    ["memory: 1GiB", 1024],
    ["memory: 100000k", 98],
    ["memory: 6m", 6],
  ])("reads %s as %d MiB", (line, memoryMb) => {
    expect(webService(`deploy:\n  resources:\n    limits:\n      ${line}`).limits).toEqual({
      memoryMb,
      cpuMillis: null,
    });
  });

  it.each([
    ['cpus: "0.5"', 500],
    ["cpus: 0.5", 500],
    ["cpus: 2", 2000],
    ['cpus: "1.25"', 1250],
    ["cpus: .1", 100],
  ])("reads %s as %d thousandths", (line, cpuMillis) => {
    expect(webService(`deploy:\n  resources:\n    limits:\n      ${line}`).limits).toEqual({
      memoryMb: null,
      cpuMillis,
    });
  });

  it.each([
    [
      "memory: lots",
      "services.web.deploy.resources.limits.memory",
      '"lots" must be a size such as "512M", "1g", "1.5G" or a number of bytes',
    ],
    [
      "memory: -1G",
      "services.web.deploy.resources.limits.memory",
      '"-1G" must be a size such as "512M", "1g", "1.5G" or a number of bytes',
    ],
    ["memory: 5M", "services.web.deploy.resources.limits.memory", "must be at least 6M"],
    [
      "cpus: half",
      "services.web.deploy.resources.limits.cpus",
      '"half" must be a number of CPUs such as 0.5 or "2"',
    ],
    ["cpus: 0", "services.web.deploy.resources.limits.cpus", "must be at least 0.001"],
    [
      "pids: 100",
      "services.web.deploy.resources.limits.pids",
      "not supported: only deploy.resources.limits.memory and .cpus are offered",
    ],
  ])("refuses %s", (line, path, reason) => {
    expect(refusal(web(`deploy:\n  resources:\n    limits:\n      ${line}`))).toEqual({
      path,
      message: `${path}: ${reason}`,
    });
  });

  it.each([
    ["deploy:\n  replicas: 2", "services.web.deploy.replicas"],
    ["deploy:\n  resources:\n    reservations: {memory: 1g}", "services.web.deploy.resources.reservations"],
  ])("refuses %j", (body, path) => {
    expect(refusal(web(body))).toEqual({
      path,
      message: `${path}: not supported: only deploy.resources.limits.memory and .cpus are offered`,
    });
  });
});

describe("depends_on", () => {
  it("defaults the condition of the mapping form to service_started", () => {
    const app = parseCompose(
      "services:\n  a:\n    depends_on:\n      b:\n      c: {restart: true}\n  b: {}\n  c: {}\n",
    );
    expect(app.services[0]?.dependsOn).toEqual([
      { service: "b", condition: "service_started" },
      { service: "c", condition: "service_started" },
    ]);
  });

  it.each([
    [
      "services:\n  a:\n    depends_on: [ghost]\n",
      "services.a.depends_on.ghost",
      "ghost is not a service of this file",
    ],
    [
      "services:\n  a:\n    depends_on: {b: {condition: service_healthy}}\n  b: {}\n",
      "services.a.depends_on.b",
      "waits for b to be healthy, but b has no healthcheck",
    ],
    [
      "services:\n  a:\n    depends_on: {b: {condition: started}}\n  b: {}\n",
      "services.a.depends_on.b.condition",
      "must be one of service_started, service_healthy, service_completed_successfully",
    ],
    [
      "services:\n  a:\n    depends_on: {b: {required: false}}\n  b: {}\n",
      "services.a.depends_on.b.required",
      "must be true: every dependency is required",
    ],
    ["services:\n  a:\n    depends_on: [b, b]\n  b: {}\n", "services.a.depends_on[1]", "names b twice"],
    [
      "services:\n  a:\n    depends_on: b\n  b: {}\n",
      "services.a.depends_on",
      "must be a list of service names or a mapping of service name to { condition }",
    ],
  ])("refuses %j", (text, path, reason) => {
    expect(refusal(text)).toEqual({ path, message: `${path}: ${reason}` });
  });

  it("refuses a cycle, naming it", () => {
    const text =
      "services:\n  a: {depends_on: [b]}\n  b: {depends_on: [c]}\n  c: {depends_on: [a]}\n  d: {}\n";
    expect(refusal(text)).toEqual({
      path: "services.a.depends_on",
      message: "services.a.depends_on: dependency cycle: a -> b -> c -> a",
    });
  });

  it("refuses a service that depends on itself", () => {
    expect(refusal("services:\n  a: {depends_on: [a]}\n")).toEqual({
      path: "services.a.depends_on",
      message: "services.a.depends_on: dependency cycle: a -> a",
    });
  });
});

describe("startOrder", () => {
  it("puts services without dependencies in one level, in file order", () => {
    expect(startOrder(parseCompose("services:\n  c: {}\n  a: {}\n  b: {}\n"))).toEqual([["c", "a", "b"]]);
  });

  it("starts each service only after every service it depends on", () => {
    const app = parseCompose(`services:
  web: {depends_on: [api, cache]}
  api: {depends_on: [db, cache]}
  cache: {}
  db: {}
  seed: {depends_on: {db: {condition: service_completed_successfully}}}
`);
    expect(startOrder(app)).toEqual([["cache", "db"], ["api", "seed"], ["web"]]);
    expect(app.services.map((service) => [service.name, service.oneShot])).toEqual([
      ["web", false],
      ["api", false],
      ["cache", false],
      ["db", true],
      ["seed", false],
    ]);
  });

  it("throws on a cycle in an app built by hand", () => {
    const [a, b] = parseCompose("services:\n  a: {}\n  b: {}\n").services;
    if (!a || !b) throw new Error("no services");
    const app: ComposeApp = {
      services: [
        { ...a, dependsOn: [{ service: "b", condition: "service_started" }] },
        { ...b, dependsOn: [{ service: "a", condition: "service_started" }] },
      ],
      volumes: [],
      primaryService: null,
    };
    expect(() => startOrder(app)).toThrow("services.a.depends_on: dependency cycle: a -> b -> a");
  });
});

describe("volumes", () => {
  const declared = "volumes:\n  data:\n  cache: {}\n";

  it.each([
    ['volumes: ["data:/data"]', [{ volume: "data", target: "/data", readOnly: false }]],
    [
      'volumes: ["data:/data:ro", "cache:/cache:rw"]',
      [
        { volume: "data", target: "/data", readOnly: true },
        { volume: "cache", target: "/cache", readOnly: false },
      ],
    ],
    [
      "volumes: [{type: volume, source: data, target: /data, read_only: true}]",
      [{ volume: "data", target: "/data", readOnly: true }],
    ],
  ])("mounts %s", (body, mounts) => {
    expect(webService(body, declared).volumes).toEqual(mounts);
  });

  it.each([
    [
      'volumes: ["./src:/app"]',
      "services.web.volumes[0]",
      "host paths cannot be mounted: a preview shares its machine; use a named volume",
    ],
    [
      'volumes: ["/srv/data:/data"]',
      "services.web.volumes[0]",
      "host paths cannot be mounted: a preview shares its machine; use a named volume",
    ],
    [
      'volumes: ["~/data:/data"]',
      "services.web.volumes[0]",
      "host paths cannot be mounted: a preview shares its machine; use a named volume",
    ],
    [
      "volumes: [{type: bind, source: ., target: /app}]",
      "services.web.volumes[0].type",
      "bind is not supported: host paths cannot be mounted: a preview shares its machine; use a named volume",
    ],
    [
      'volumes: ["/data"]',
      "services.web.volumes[0]",
      "anonymous volumes are not supported: name the volume and declare it under top-level volumes",
    ],
    [
      "volumes: [{type: volume, target: /data}]",
      "services.web.volumes[0]",
      "anonymous volumes are not supported: name the volume and declare it under top-level volumes",
    ],
    [
      "volumes: [{type: tmpfs, target: /tmp}]",
      "services.web.volumes[0].type",
      "tmpfs is not supported: use a named volume",
    ],
    [
      "volumes: [{type: npipe, source: x, target: /x}]",
      "services.web.volumes[0].type",
      "npipe is not supported: only volume",
    ],
    [
      'volumes: ["logs:/logs"]',
      "services.web.volumes[0]",
      'volume "logs" is not declared under top-level volumes',
    ],
    [
      'volumes: ["data:data"]',
      "services.web.volumes[0]",
      'target "data" must be an absolute path in the container',
    ],
    [
      'volumes: ["data:/data:z"]',
      "services.web.volumes[0]",
      '"data:/data:z" must be "volume:/path", "volume:/path:ro" or "volume:/path:rw"',
    ],
    [
      'volumes: ["data"]',
      "services.web.volumes[0]",
      '"data" must be "volume:/path", "volume:/path:ro" or "volume:/path:rw"',
    ],
    ['volumes: ["data:/data", "cache:/data"]', "services.web.volumes[1]", "mounts /data twice"],
    [
      "volumes: [{type: volume, source: data, target: /data, volume: {nocopy: true}}]",
      "services.web.volumes[0].volume",
      "not supported",
    ],
  ])("refuses %s", (body, path, reason) => {
    expect(refusal(web(body, declared))).toEqual({ path, message: `${path}: ${reason}` });
  });

  it("reads top-level volumes in file order, with seedFrom", () => {
    const app = parseCompose(
      web(
        "",
        "volumes:\n  pgdata:\n    x-edgeplane: {seedFrom: staging}\n  uploads: {}\n  cache:\n  x.y_z-1: {x-other: 1}\n",
      ),
    );
    expect(app.volumes).toEqual([
      { name: "pgdata", seedFrom: "staging" },
      { name: "uploads", seedFrom: null },
      { name: "cache", seedFrom: null },
      { name: "x.y_z-1", seedFrom: null },
    ]);
  });

  it.each([
    [
      "volumes:\n  data: {driver: local}",
      "volumes.data.driver",
      "not supported: edgeplane creates, names and deletes each environment's volumes",
    ],
    [
      "volumes:\n  data: {external: true}",
      "volumes.data.external",
      "not supported: edgeplane creates, names and deletes each environment's volumes",
    ],
    [
      "volumes:\n  data: {driver_opts: {type: nfs}}",
      "volumes.data.driver_opts",
      "not supported: edgeplane creates, names and deletes each environment's volumes",
    ],
    [
      "volumes:\n  data: {name: shared}",
      "volumes.data.name",
      "not supported: edgeplane creates, names and deletes each environment's volumes",
    ],
    ["volumes:\n  data: {size: 1g}", "volumes.data.size", "not supported"],
    [
      "volumes:\n  Data: {}",
      "volumes.Data",
      "volume name must be 1 to 63 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit",
    ],
    [
      "volumes:\n  _data: {}",
      "volumes._data",
      "volume name must be 1 to 63 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit",
    ],
    [
      "volumes:\n  data: {x-edgeplane: {seedFrom: Staging}}",
      "volumes.data.x-edgeplane.seedFrom",
      "must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'",
    ],
    ["volumes:\n  data: {x-edgeplane: {seed: staging}}", "volumes.data.x-edgeplane.seed", "not supported"],
    ["volumes:\n  data: local", "volumes.data", "must be empty or a mapping, not a string"],
    ["volumes: [data]", "volumes", "must be a mapping, not a list"],
  ])("refuses %j", (topLevel, path, reason) => {
    expect(refusal(web("", topLevel))).toEqual({ path, message: `${path}: ${reason}` });
  });
});

describe("working_dir and user", () => {
  it("reads them", () => {
    const service = webService("working_dir: /app\nuser: node");
    expect([service.workingDir, service.user]).toEqual(["/app", "node"]);
    expect(webService("user: 1000:1000").user).toBe("1000:1000");
    expect(webService("user: 1000").user).toBe("1000");
  });

  it.each([
    ["working_dir: app", "services.web.working_dir", "must be an absolute path"],
    ["user: 'root; rm -rf /'", "services.web.user", "must be user, user:group, uid or uid:gid"],
  ])("refuses %s", (body, path, reason) => {
    expect(refusal(web(body))).toEqual({ path, message: `${path}: ${reason}` });
  });
});

describe("the YAML document", () => {
  it("turns a syntax error into a ComposeError with its line and column", () => {
    expect(refusal("services:\n  web:\n    ports: [80\n")).toEqual({
      path: "",
      message:
        "invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 4, column 1",
    });
  });

  it("refuses duplicate keys", () => {
    expect(refusal("services:\n  web: {}\n  web: {}\n")).toEqual({
      path: "",
      message: "invalid YAML: Map keys must be unique at line 3, column 3",
    });
  });

  it("refuses several documents", () => {
    expect(refusal("services:\n  web: {}\n---\nservices:\n  api: {}\n").message).toBe(
      "invalid YAML: Source contains multiple documents; please use YAML.parseAllDocuments() at line 3, column 1",
    );
  });

  it("refuses tags it does not know, such as compose's !reset", () => {
    expect(refusal(web("ports: !reset []")).message).toBe(
      "invalid YAML: Unresolved tag: !reset at line 4, column 12",
    );
  });

  it("refuses alias expansion past its bound (billion laughs)", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [index, name] of ["b", "c", "d", "e", "f", "g"].entries()) {
      const previous = index === 0 ? "a" : ["b", "c", "d", "e", "f"][index - 1];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
    }
    const text = `x-lol:\n${levels.map((line) => `  ${line}`).join("\n")}\n${web("")}`;
    expect(refusal(text)).toEqual({
      path: "",
      message: "invalid YAML: Excessive alias count indicates a resource exhaustion attack",
    });
  });

  it("refuses a file over 256 KiB, counted in UTF-8 bytes, and takes one of exactly 256 KiB", () => {
    const base = web("");
    const exact = `${base}# ${"x".repeat(256 * 1024 - base.length - 3)}\n`;
    expect(exact.length).toBe(262_144);
    expect(parseCompose(exact).services).toHaveLength(1);
    const tooBig = `${exact}#`;
    expect(refusal(tooBig)).toEqual({ path: "", message: "the compose file is over 256 KiB (262144 bytes)" });
    const wide = `${base}# ${"é".repeat(140_000)}\n`; // 140,000 characters, 280,000 bytes
    expect(refusal(wide).message).toBe("the compose file is over 256 KiB (262144 bytes)");
  });
});
