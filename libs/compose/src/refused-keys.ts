/** Why a service key is refused. "not allowed" guards the shared machine; "not supported" is a choice of scope. */
interface Refusal {
  verdict: "not allowed" | "not supported";
  reason: string;
}

const notAllowed = (reason: string): Refusal => ({ verdict: "not allowed", reason });
const notSupported = (reason: string): Refusal => ({ verdict: "not supported", reason });

const OWN_NETWORK =
  "edgeplane gives each environment its own network, where services reach each other by name";
const USE_ENVIRONMENT = "put values in environment or the project's env";
const USE_LIMITS = "set limits under deploy.resources.limits";

/** Service keys of the Compose Specification that edgeplane refuses, each with its reason. */
export const REFUSED_SERVICE_KEYS: Readonly<Record<string, Refusal>> = {
  build: notSupported("images are built by CI and deployed by reference"),
  privileged: notAllowed("a preview service cannot run privileged"),
  cap_add: notAllowed("a preview service cannot gain Linux capabilities"),
  devices: notAllowed("a preview service cannot use the host's devices"),
  pid: notAllowed("a preview service cannot share a PID namespace"),
  ipc: notAllowed("a preview service cannot share an IPC namespace"),
  uts: notAllowed("a preview service cannot share the host's UTS namespace"),
  userns_mode: notAllowed("a preview service cannot change its user namespace"),
  security_opt: notAllowed("a preview service cannot change its security profile"),
  sysctls: notAllowed("a preview service cannot change kernel parameters"),
  cgroup: notAllowed("a preview service cannot choose its cgroup namespace"),
  cgroup_parent: notAllowed("a preview service cannot choose its cgroup"),
  runtime: notAllowed("a preview service cannot choose its container runtime"),
  network_mode: notAllowed(OWN_NETWORK),
  external_links: notAllowed("a preview service cannot reach containers outside its environment"),
  networks: notSupported(OWN_NETWORK),
  links: notSupported(OWN_NETWORK),
  extra_hosts: notSupported(OWN_NETWORK),
  dns: notSupported("the environment's network resolves names"),
  dns_search: notSupported("the environment's network resolves names"),
  dns_opt: notSupported("the environment's network resolves names"),
  hostname: notSupported("edgeplane names the hosts of an environment"),
  domainname: notSupported("edgeplane names the hosts of an environment"),
  container_name: notSupported("edgeplane names containers, one set per environment"),
  volumes_from: notSupported("mount a named volume in each service instead"),
  tmpfs: notSupported("tmpfs mounts are not offered; use a named volume"),
  shm_size: notSupported("the size of /dev/shm is not configurable"),
  ulimits: notSupported(USE_LIMITS),
  mem_limit: notSupported(USE_LIMITS),
  memswap_limit: notSupported(USE_LIMITS),
  mem_reservation: notSupported(USE_LIMITS),
  cpus: notSupported(USE_LIMITS),
  cpu_shares: notSupported(USE_LIMITS),
  cpu_quota: notSupported(USE_LIMITS),
  cpuset: notSupported(USE_LIMITS),
  pids_limit: notSupported(USE_LIMITS),
  env_file: notSupported(USE_ENVIRONMENT),
  secrets: notSupported(USE_ENVIRONMENT),
  configs: notSupported("bake configuration files into the image"),
  profiles: notSupported("every service of the file is deployed"),
  extends: notSupported("write each service in full (YAML anchors and merge keys work)"),
  scale: notSupported("each environment runs one container per service"),
};

/** Top-level keys of the Compose Specification that edgeplane refuses, each with its reason. */
export const REFUSED_TOP_LEVEL_KEYS: Readonly<Record<string, string>> = {
  networks: OWN_NETWORK,
  configs: "bake configuration files into the image",
  secrets: USE_ENVIRONMENT,
  include: "write the whole application in one file",
};
