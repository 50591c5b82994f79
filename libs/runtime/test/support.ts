import { randomInt } from "node:crypto";
import { type DockerRuntime, SubnetTaken } from "../src/index.ts";

/**
 * Makes the environment's network on a random /27 of `base` (a /16 such as `10.215`, which no other
 * test file uses), trying another when another run holds one; resolves with the subnet's first
 * three octets.
 */
export async function networkInRange(
  runtime: DockerRuntime,
  network: { instance: string; projectId: string; environmentId: string; name: string },
  base: string,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const prefix = `${base}.${randomInt(0, 256)}`;
    try {
      await runtime.ensureNetwork({ ...network, subnet: `${prefix}.0/27` });
      return prefix;
    } catch (error) {
      if (!(error instanceof SubnetTaken) || attempt >= 5) throw error;
    }
  }
}
