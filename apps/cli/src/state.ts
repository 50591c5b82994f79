import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateSigningKey } from "@edgeplane/queue";
import { generateCredentialsKeyPair } from "@edgeplane/registry";

/** Reads a secret file, or creates it owner-only with `make()` the first time. */
async function secretFile(path: string, make: () => string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    const value = make();
    await writeFile(path, `${value}\n`, { mode: 0o600, flag: "wx" }).catch(() => {});
    await chmod(path, 0o600);
    return (await readFile(path, "utf8")).trim();
  }
}

export type SigningKey = ReturnType<typeof generateSigningKey>;

async function signingKeyFile(path: string): Promise<SigningKey> {
  return JSON.parse(await secretFile(path, () => JSON.stringify(generateSigningKey()))) as SigningKey;
}

/**
 * The single-machine state `edgeplane up` keeps beside Postgres, each file owner-only (0600):
 * - the workers' job-signing key pair, and a pair of the API's own (the API signs the jobs it enqueues,
 *   and only the workers of those queues trust its public half);
 * - the key that seals the local CA's private key in Postgres (32 random bytes, base64), for
 *   worker-ingress only; it never goes into Postgres;
 * - the key pair projects' registry credentials are sealed to: the public half for the API (which
 *   stores them), the private half for worker-stage only (which presents them);
 * - when EDGEPLANE_ADMIN_TOKEN is not given, a generated admin token.
 */
export async function loadLocalState(stateDir: string) {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const key = await signingKeyFile(join(stateDir, "signing-key.json"));
  const apiKey = await signingKeyFile(join(stateDir, "api-signing-key.json"));
  const caKey = await secretFile(join(stateDir, "ca-key"), () => randomBytes(32).toString("base64"));
  const credentialsKey = JSON.parse(
    await secretFile(join(stateDir, "credentials-key.json"), () =>
      JSON.stringify(generateCredentialsKeyPair()),
    ),
  ) as ReturnType<typeof generateCredentialsKeyPair>;
  const adminTokenPath = join(stateDir, "admin-token");
  const adminToken = await secretFile(adminTokenPath, () => `epa_${randomBytes(32).toString("base64url")}`);
  return { key, apiKey, caKey, credentialsKey, adminToken, adminTokenPath };
}
export type LocalState = Awaited<ReturnType<typeof loadLocalState>>;
