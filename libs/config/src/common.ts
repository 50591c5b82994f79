import { z } from "zod";

const port = z.coerce.number().int().min(1).max(65535);
const positiveMs = z.coerce.number().int().positive();

/** Variables every process shares: where state lives and how jobs are signed. */
export const commonEnv = z.object({
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/edgeplane"),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  EDGEPLANE_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, "lowercase letters, digits and '-' only")
    .default("edgeplane"),
  /** Labels every container and route this instance owns; two instances never touch each other's. */
  EDGEPLANE_INSTANCE: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, "lowercase letters, digits and '-' only")
    .default("default"),
  /** Ed25519 private key (PKCS#8 DER, base64) used to sign the jobs this process enqueues. */
  EDGEPLANE_SIGNING_KEY: z.string().min(1, "required: base64 PKCS#8 Ed25519 private key"),
  /** Trusted public keys, `kid=base64-spki` separated by commas. */
  EDGEPLANE_PUBLIC_KEYS: z.string().min(1, "required: kid=base64-spki[,kid=…]"),
  /** How old a signed job may be before it is refused as stale. */
  EDGEPLANE_JOB_MAX_AGE_MS: positiveMs.default(24 * 60 * 60 * 1000),
  /** Attempts per job before it fails for good (and its deployment is marked `failed`). */
  EDGEPLANE_JOB_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(6),
  /** First retry delay; each further attempt waits twice as long, with jitter. */
  EDGEPLANE_JOB_BACKOFF_MS: positiveMs.default(1000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type CommonEnv = z.infer<typeof commonEnv>;

/** Where the gateway listens and how URLs are shown to users. */
export const gatewayEnv = z.object({
  EDGEPLANE_GATEWAY_HOST: z.string().default("127.0.0.1"),
  EDGEPLANE_GATEWAY_PORT: port.default(8080),
  EDGEPLANE_GATEWAY_DIR: z.string().default(".edgeplane/gateway"),
  EDGEPLANE_NGINX_BIN: z.string().default("nginx"),
  /** Port shown in environment URLs; defaults to the gateway's port. */
  EDGEPLANE_PUBLIC_PORT: port.optional(),
  EDGEPLANE_PUBLIC_SCHEME: z.enum(["http", "https"]).default("http"),
  /** HTTPS listener of the gateway, for projects with TLS; also the port shown in their URLs. */
  EDGEPLANE_GATEWAY_HTTPS_PORT: port.default(8443),
  /** The API as the gateway reaches it for status pages: `http://<ip>:<port>`. */
  EDGEPLANE_CONTROL_URL: z.string().url().default("http://127.0.0.1:3000"),
});
export type GatewayEnv = z.infer<typeof gatewayEnv>;

/** Half of an X25519 key pair: 32 bytes, base64url without padding; empty means unset. */
const credentialsKey = z.preprocess(
  (value) => (value === "" ? undefined : value),
  z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, "must be an X25519 key, 32 bytes base64url (edgeplane up generates one)")
    .optional(),
);

/** Where the runtime is: one Docker host, or a Docker Swarm through one of its managers. */
const dockerEnv = z.object({
  /** `docker`: every environment on the Docker host next to edgeplane; `swarm`: as Swarm services. */
  EDGEPLANE_RUNTIME: z.enum(["docker", "swarm"]).default("docker"),
  /** The Docker engine's socket, unless DOCKER_HOST is set. */
  DOCKER_SOCKET: z.string().default("/var/run/docker.sock"),
  /** As the docker CLI reads it (`unix:///…` or `tcp://host:port`); for `swarm`, a manager. */
  DOCKER_HOST: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z
      .string()
      .regex(/^(unix|tcp):\/\/\S+$/, "unix:///path/to/docker.sock or tcp://host:port")
      .optional(),
  ),
  /** `1`: TLS to DOCKER_HOST, verified with the files in DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem). */
  DOCKER_TLS_VERIFY: z.string().optional(),
  DOCKER_CERT_PATH: z.string().optional(),
});

export const apiEnv = commonEnv.extend(gatewayEnv.shape).extend({
  EDGEPLANE_API_HOST: z.string().default("127.0.0.1"),
  EDGEPLANE_API_PORT: port.default(3000),
  /** Admin bearer token. Required: a missing secret is a boot error, never an open door. */
  EDGEPLANE_ADMIN_TOKEN: z.string().min(24, "required, at least 24 characters"),
  EDGEPLANE_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** How long a request waits to enqueue after its commit; past it the resync enqueues instead. */
  EDGEPLANE_ENQUEUE_TIMEOUT_MS: positiveMs.default(2000),
  /** Rate limits, counted in Redis so they hold across API processes; 0 turns one off. */
  EDGEPLANE_RATE_LIMIT_WINDOW_MS: positiveMs.default(60_000),
  /** Deploy requests (POST /v1/deployments) per token per window. */
  EDGEPLANE_RATE_LIMIT_DEPLOYS: z.coerce.number().int().min(0).default(300),
  /** Webhook deliveries (POST /webhooks/github) per source address per window. */
  EDGEPLANE_RATE_LIMIT_WEBHOOKS: z.coerce.number().int().min(0).default(600),
  /**
   * The public half of the key projects' registry credentials are sealed to (X25519, 32 bytes
   * base64url): the API can store credentials but never read them back. Unset: a project's
   * `registryCredentials` are refused. `edgeplane up` generates the pair into its state dir.
   */
  EDGEPLANE_CREDENTIALS_PUBLIC_KEY: credentialsKey,
  /** A request for a sleeping environment is held this long while it wakes, then answered 503. */
  EDGEPLANE_WAKE_HOLD_MS: positiveMs.default(30_000),
  /** The API reads environments' container logs from the runtime (and never changes anything there). */
  ...dockerEnv.shape,
});
export type ApiEnv = z.infer<typeof apiEnv>;

/** `host[:port]` of a registry, as image references name it (`ghcr.io`, `127.0.0.1:5002`). */
const registryHost = z.preprocess(
  (value) => (value === "" ? undefined : value),
  z
    .string()
    .regex(
      /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/,
      "must be host[:port], e.g. 127.0.0.1:5002",
    )
    .optional(),
);
const secret = z.preprocess((value) => (value === "" ? undefined : value), z.string().min(1).optional());

/**
 * The artifact path: the primary registry CI pushes to, and the edge registry (a pull-through cache
 * of it) the runtime pulls from. Unset edge: images are pulled straight from their registry.
 * The credentials are presented to the primary only, and never logged.
 */
export const artifactEnv = z.object({
  EDGEPLANE_EDGE_REGISTRY: registryHost,
  EDGEPLANE_EDGE_UPSTREAM: registryHost,
  EDGEPLANE_REGISTRY_USERNAME: secret,
  EDGEPLANE_REGISTRY_PASSWORD: secret,
  /**
   * Registries (`host:port`, comma-separated) spoken to over plain HTTP, as dockerd's
   * `--insecure-registry`: say, an edge registry on a private network that every Swarm node pulls
   * from. Loopback registries always are.
   */
  EDGEPLANE_INSECURE_REGISTRIES: z.preprocess(
    (value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((v) => v.trim())
            .filter(Boolean)
        : value,
    z.array(z.string().regex(/^[a-zA-Z0-9.-]+(?::[0-9]{1,5})?$/, "host:port of a registry")).default([]),
  ),
});
export type ArtifactEnv = z.infer<typeof artifactEnv>;

/** Cross-checks of the artifact variables, each issue naming the variable to fix. */
export function checkArtifactEnv(env: ArtifactEnv, ctx: z.RefinementCtx): void {
  const issue = (variable: keyof ArtifactEnv, message: string) =>
    ctx.addIssue({ code: "custom", path: [variable], message });
  if (env.EDGEPLANE_EDGE_REGISTRY && !env.EDGEPLANE_EDGE_UPSTREAM) {
    issue(
      "EDGEPLANE_EDGE_UPSTREAM",
      "required with EDGEPLANE_EDGE_REGISTRY: the primary registry the edge caches",
    );
  }
  if (env.EDGEPLANE_EDGE_REGISTRY && env.EDGEPLANE_EDGE_REGISTRY === env.EDGEPLANE_EDGE_UPSTREAM) {
    issue("EDGEPLANE_EDGE_REGISTRY", "must differ from EDGEPLANE_EDGE_UPSTREAM");
  }
  if (Boolean(env.EDGEPLANE_REGISTRY_USERNAME) !== Boolean(env.EDGEPLANE_REGISTRY_PASSWORD)) {
    issue(
      env.EDGEPLANE_REGISTRY_USERNAME ? "EDGEPLANE_REGISTRY_PASSWORD" : "EDGEPLANE_REGISTRY_USERNAME",
      "username and password go together",
    );
  }
  if (env.EDGEPLANE_REGISTRY_USERNAME && !env.EDGEPLANE_EDGE_UPSTREAM) {
    issue(
      "EDGEPLANE_EDGE_UPSTREAM",
      "required with registry credentials: they are only ever sent to this primary registry",
    );
  }
}

export interface ArtifactConfig {
  /** The edge cache and the primary it proxies; null: pull straight from each image's registry. */
  edge: { registry: string; upstream: string } | null;
  /** The primary registry (`EDGEPLANE_EDGE_UPSTREAM`), if named. */
  primary: string | null;
  credentials: { username: string; password: string } | null;
  /** Registries spoken to over plain HTTP (besides loopback ones). */
  insecure: string[];
}

export function artifactConfig(env: ArtifactEnv): ArtifactConfig {
  const primary = env.EDGEPLANE_EDGE_UPSTREAM ?? null;
  return {
    edge:
      env.EDGEPLANE_EDGE_REGISTRY && primary
        ? { registry: env.EDGEPLANE_EDGE_REGISTRY, upstream: primary }
        : null,
    primary,
    credentials:
      env.EDGEPLANE_REGISTRY_USERNAME && env.EDGEPLANE_REGISTRY_PASSWORD
        ? { username: env.EDGEPLANE_REGISTRY_USERNAME, password: env.EDGEPLANE_REGISTRY_PASSWORD }
        : null,
    insecure: env.EDGEPLANE_INSECURE_REGISTRIES,
  };
}

export const workerEnv = commonEnv.extend({
  EDGEPLANE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  EDGEPLANE_SHUTDOWN_TIMEOUT_MS: positiveMs.default(20_000),
  /** A job whose worker died (its lock not renewed this long) is run again by another worker. */
  EDGEPLANE_JOB_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
});
export type WorkerEnv = z.infer<typeof workerEnv>;

/** Runtime settings every process that talks to Docker reads. */
const runtimeEnv = dockerEnv.extend({
  /**
   * `swarm`: the host ports services are published on (`mode: host`, one per service, never two
   * services on one port while it is allocated), as `first-last`.
   */
  EDGEPLANE_SWARM_PORT_RANGE: z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, "a port range such as 30000-32767")
    .refine((value) => {
      const [first = 0, last = 0] = value.split("-").map(Number);
      return first >= 1024 && last <= 65535 && first <= last;
    }, "a range of ports from 1024 to 65535, first ≤ last")
    .default("30000-32767"),
  /**
   * `swarm`: the share of each service's memory and CPU limits reserved for it on its node, in
   * percent: a node takes a task only with that much free, so previews cannot crowd out prod.
   */
  EDGEPLANE_SWARM_RESERVATION_PERCENT: z.coerce.number().int().min(0).max(100).default(25),
  /** A Docker call that takes longer fails its attempt (the work converges on retry). */
  EDGEPLANE_DOCKER_TIMEOUT_MS: positiveMs.default(60_000),
  /**
   * Where environments' private networks get their subnets: one subnet of
   * `EDGEPLANE_NETWORK_PREFIX` bits per environment, from this IPv4 range.
   */
  EDGEPLANE_NETWORK_POOL: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "an IPv4 CIDR range such as 10.213.0.0/16")
    .default("10.213.0.0/16"),
  EDGEPLANE_NETWORK_PREFIX: z.coerce.number().int().min(16).max(29).default(27),
});

export const reconcileEnv = workerEnv
  .extend({
    ...runtimeEnv.shape,
    EDGEPLANE_HEALTH_TIMEOUT_MS: positiveMs.default(60_000),
    /**
     * On one Docker host, `on`: after each deploy, the environment's next start is readied (a
     * network holder its next container joins, so that it starts without Docker's network set-up).
     */
    EDGEPLANE_NETWORK_HOLDERS: z.enum(["on", "off"]).default("on"),
    /**
     * With network holders on, how many environment networks (each with network holders) are kept
     * made ahead, for environments yet to be created: a new one starts its first container without
     * waiting for Docker to set a network up. Each holds a subnet of the pool. 0: none.
     */
    EDGEPLANE_NETWORK_SPARES: z.coerce.number().int().min(0).max(64).default(2),
    // how URLs are shown: compose services are given their own and each other's (EDGEPLANE_URL_*)
    ...gatewayEnv.pick({
      EDGEPLANE_GATEWAY_PORT: true,
      EDGEPLANE_PUBLIC_PORT: true,
      EDGEPLANE_PUBLIC_SCHEME: true,
      EDGEPLANE_GATEWAY_HTTPS_PORT: true,
    }).shape,
    ...artifactEnv.shape,
  })
  .superRefine(checkArtifactEnv);
export type ReconcileEnv = z.infer<typeof reconcileEnv>;

export const stageEnv = workerEnv
  .extend({
    ...runtimeEnv.shape,
    ...artifactEnv.shape,
    /** How long staging waits for an image that is not pushed yet, counted from the request. */
    EDGEPLANE_STAGE_WAIT_MS: positiveMs.default(15 * 60 * 1000),
    /** A registry request (manifest or token) unanswered this long fails its attempt. */
    EDGEPLANE_REGISTRY_TIMEOUT_MS: positiveMs.default(30_000),
    /**
     * The private half of the credentials key pair: opens a project's registry credentials, for
     * that project's deployments only. Given to this process alone.
     */
    EDGEPLANE_CREDENTIALS_KEY: credentialsKey,
  })
  .superRefine(checkArtifactEnv);
export type StageEnv = z.infer<typeof stageEnv>;

/** How often state is re-derived from Postgres: the janitor's resync, the gateway's drift check. */
const resyncIntervalMs = positiveMs.default(30_000);

export const ingressEnv = workerEnv.extend(gatewayEnv.shape).extend({
  EDGEPLANE_RESYNC_INTERVAL_MS: resyncIntervalMs,
  /** How often the gateway's requests are recorded on environments and idle ones put to sleep. */
  EDGEPLANE_SLEEP_CHECK_MS: positiveMs.default(30_000),
  /** How often certificates are checked: missing ones issued, due ones renewed. */
  EDGEPLANE_TLS_CHECK_INTERVAL_MS: positiveMs.default(5 * 60 * 1000),
  /** Renew this many days before expiry (or at a third of the lifetime left, if that comes later). */
  EDGEPLANE_TLS_RENEW_BEFORE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** After a failed issue or renewal, wait this long before trying that certificate again. */
  EDGEPLANE_TLS_RETRY_AFTER_MS: positiveMs.default(15 * 60 * 1000),
  /** Validity of certificates from edgeplane's local CA. */
  EDGEPLANE_TLS_LOCAL_VALID_DAYS: z.coerce.number().int().min(1).max(825).default(90),
  /** An ACME server request unanswered this long fails the attempt (retried after the retry delay). */
  EDGEPLANE_ACME_TIMEOUT_MS: positiveMs.default(30_000),
  /** A DNS query or update (RFC 2136, httpreq) unanswered this long fails the attempt. */
  EDGEPLANE_DNS_TIMEOUT_MS: positiveMs.default(10_000),
  /**
   * Encrypts the local CA's private key in Postgres (AES-256-GCM): 32 random bytes, base64. Held
   * outside Postgres and given to this process only; `edgeplane up` generates one into its state dir.
   * Unset: certificates from the local CA cannot be issued (the failure is recorded on them).
   */
  EDGEPLANE_CA_KEY: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, "must be 32 random bytes, base64 (openssl rand -base64 32)")
      .optional(),
  ),
});
export type IngressEnv = z.infer<typeof ingressEnv>;

export const janitorEnv = workerEnv.extend({
  ...runtimeEnv.shape,
  /** How often the janitor sweeps for closed, expired, stuck and orphaned environments. */
  EDGEPLANE_SWEEP_INTERVAL_MS: positiveMs.default(60_000),
  EDGEPLANE_TEARDOWN_STUCK_MS: positiveMs.default(120_000),
  /** How often the resync re-derives every environment's pending work from Postgres. */
  EDGEPLANE_RESYNC_INTERVAL_MS: resyncIntervalMs,
  /** An environment changed this recently is left to the jobs already under way. */
  EDGEPLANE_RESYNC_GRACE_MS: positiveMs.default(30_000),
  /** Images edgeplane pulled and nothing used for this long are removed from the runtime; 0: never. */
  EDGEPLANE_IMAGE_GC_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10 * 60 * 1000),
});
export type JanitorEnv = z.infer<typeof janitorEnv>;

export const notifyEnv = workerEnv.extend(gatewayEnv.shape).extend({
  /** Token (or GitHub App installation token) for reporting previews; unset: reporting is off. */
  EDGEPLANE_GITHUB_TOKEN: z.string().min(1).optional(),
  /** REST root; `https://<host>/api/v3` for GitHub Enterprise Server. */
  EDGEPLANE_GITHUB_API_URL: z.string().url().default("https://api.github.com"),
  /** A GitHub REST request unanswered this long fails its attempt. */
  EDGEPLANE_GITHUB_TIMEOUT_MS: positiveMs.default(30_000),
});
export type NotifyEnv = z.infer<typeof notifyEnv>;
