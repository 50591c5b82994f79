import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateSigningKey } from "@edgeplane/queue";

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

/**
 * The single-machine state `edgeplane up` keeps beside Postgres: the job-signing key pair and,
 * when EDGEPLANE_ADMIN_TOKEN is not given, a generated admin token. All owner-only.
 */
export async function loadLocalState(stateDir: string) {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const keyJson = await secretFile(join(stateDir, "signing-key.json"), () =>
    JSON.stringify(generateSigningKey()),
  );
  const key = JSON.parse(keyJson) as ReturnType<typeof generateSigningKey>;
  const adminTokenPath = join(stateDir, "admin-token");
  const adminToken = await secretFile(adminTokenPath, () => `epa_${randomBytes(32).toString("base64url")}`);
  return { key, adminToken, adminTokenPath };
}
