import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@edgeplane/config";
import { generateSigningKey } from "@edgeplane/queue/signing";
import { generateCredentialsKeyPair } from "@edgeplane/registry";
import { z } from "zod";

const signingKey = z.object({
  kid: z.string().min(1),
  publicKey: z.string().min(1),
  privateKey: z.string().min(1),
});
export type SigningKey = z.infer<typeof signingKey>;
const credentialsKeyPair = z.object({ publicKey: z.string().min(1), privateKey: z.string().min(1) });

/**
 * The keys of one edgeplane, each a file of the state dir, owner-only (0600). One machine makes
 * them on its first `edgeplane up`; machines of a cluster all hold the same (`edgeplane keys`
 * makes them once, to be copied from a secret store), since what one process signs or seals
 * another opens:
 * - `key`: the workers' job-signing key pair; `apiKey`: a pair of the API's own (the API signs the
 *   jobs it enqueues, and only the workers of those queues trust its public half);
 * - `caKey`: seals the local CA's private key in Postgres (32 random bytes, base64), for
 *   worker-ingress only; it never goes into Postgres;
 * - `credentialsKey`: the pair projects' registry credentials are sealed to: the public half for
 *   the API (which stores them), the private half for worker-stage only (which presents them);
 * - `adminToken`: the admin token (when EDGEPLANE_ADMIN_TOKEN does not give one).
 */
export const KEY_FILES = {
  key: {
    file: "signing-key.json",
    make: () => JSON.stringify(generateSigningKey()),
    parse: (text: string) => signingKey.parse(JSON.parse(text)),
  },
  apiKey: {
    file: "api-signing-key.json",
    make: () => JSON.stringify(generateSigningKey()),
    parse: (text: string) => signingKey.parse(JSON.parse(text)),
  },
  caKey: {
    file: "ca-key",
    make: () => randomBytes(32).toString("base64"),
    parse: (text: string) => z.string().min(1).parse(text),
  },
  credentialsKey: {
    file: "credentials-key.json",
    make: () => JSON.stringify(generateCredentialsKeyPair()),
    parse: (text: string) => credentialsKeyPair.parse(JSON.parse(text)),
  },
  adminToken: {
    file: "admin-token",
    make: () => `epa_${randomBytes(32).toString("base64url")}`,
    parse: (text: string) => z.string().min(1).parse(text),
  },
} as const;

export type KeyName = keyof typeof KEY_FILES;
export const KEY_NAMES = Object.keys(KEY_FILES) as KeyName[];
/** The keys as read: each one present, or absent where nothing on this machine needs it. */
export type Keys = { -readonly [K in KeyName]?: ReturnType<(typeof KEY_FILES)[K]["parse"]> };

/** The text of a key file, or undefined when there is none. */
async function readKeyFile(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function parseKey<K extends KeyName>(name: K, dir: string, text: string): NonNullable<Keys[K]> {
  try {
    return KEY_FILES[name].parse(text) as NonNullable<Keys[K]>;
  } catch {
    throw new ConfigError(
      `${join(dir, KEY_FILES[name].file)} is not a key edgeplane made: copy it again from where the cluster's keys are kept (edgeplane keys makes them)`,
    );
  }
}

/** Reads the named keys from `dir`; the ones without a file come back as `missing`, nothing is made. */
export async function readKeys(
  dir: string,
  names: Iterable<KeyName>,
): Promise<{ keys: Keys; missing: KeyName[] }> {
  const keys: Keys = {};
  const missing: KeyName[] = [];
  for (const name of new Set(names)) {
    const text = await readKeyFile(join(dir, KEY_FILES[name].file));
    if (text === undefined) missing.push(name);
    else Object.assign(keys, { [name]: parseKey(name, dir, text) });
  }
  return { keys, missing };
}

/**
 * Makes every key `dir` lacks, owner-only, and never replaces one it has (two processes making
 * the same file at once end up reading the same one). Says which it made.
 */
export async function ensureKeys(dir: string): Promise<{ keys: Required<Keys>; made: KeyName[] }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const made: KeyName[] = [];
  for (const name of KEY_NAMES) {
    const path = join(dir, KEY_FILES[name].file);
    if ((await readKeyFile(path)) !== undefined) continue;
    const written = await writeFile(path, `${KEY_FILES[name].make()}\n`, { mode: 0o600, flag: "wx" }).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "EEXIST") return false;
        throw error;
      },
    );
    if (written) {
      await chmod(path, 0o600);
      made.push(name);
    }
  }
  const { keys } = await readKeys(dir, KEY_NAMES);
  return { keys: keys as Required<Keys>, made };
}
