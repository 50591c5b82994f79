import type Docker from "dockerode";

/** Capabilities an ordinary web process may need; everything else is dropped. */
export const KEPT_CAPABILITIES = ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", "DAC_OVERRIDE", "FOWNER"];

/** The sandbox every container edgeplane starts runs in: no privileges to gain, few capabilities, limits. */
export function hardenedHostConfig(limits: {
  memoryBytes?: number | undefined;
  nanoCpus?: number | undefined;
}): Docker.HostConfig {
  return {
    SecurityOpt: ["no-new-privileges"],
    CapDrop: ["ALL"],
    CapAdd: KEPT_CAPABILITIES,
    Memory: limits.memoryBytes ?? 512 * 1024 * 1024,
    NanoCpus: limits.nanoCpus ?? 1_000_000_000,
    PidsLimit: 512,
  };
}
