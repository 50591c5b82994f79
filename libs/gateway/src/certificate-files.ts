import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** A certificate with its key, as PEM text: what the gateway serves for a name. */
export interface KeyMaterial {
  certPem: string;
  keyPem: string;
  chainPem: string;
}

const fileName = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** A certificate name as a plain file name: `*.preview.test` becomes `_wildcard.preview.test`. */
export function certificateFileName(name: string): string {
  return name.startsWith("*.") ? `_wildcard.${name.slice(2)}` : name;
}

function withNewline(pem: string): string {
  const trimmed = pem.trim();
  return trimmed === "" ? "" : `${trimmed}\n`;
}

/** Writes `contents` to a temp file beside `path`, syncs it, and renames it over `path`. */
export async function writeFileAtomically(path: string, contents: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const file = await open(temp, "wx", mode);
  try {
    await file.chmod(mode);
    await file.writeFile(contents);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Writes `<name>.crt` (leaf then chain: what nginx's `ssl_certificate` wants) and `<name>.key` (mode 0600)
 * into `dir` (created or tightened to 0700). Each file is replaced atomically; the key is written first,
 * so a reader sees the old pair, or the new key with the old certificate only between the two renames —
 * reload the gateway after this returns. `name` is a plain file name: map a wildcard with
 * `certificateFileName` first.
 */
export async function writeKeyMaterial(
  dir: string,
  name: string,
  material: KeyMaterial,
): Promise<{ certPath: string; keyPath: string }> {
  if (!fileName.test(name) || name.includes(".."))
    throw new Error(`not a plain file name: ${JSON.stringify(name)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  await writeFileAtomically(keyPath, withNewline(material.keyPem), 0o600);
  await writeFileAtomically(certPath, withNewline(material.certPem) + withNewline(material.chainPem), 0o644);
  return { certPath, keyPath };
}

/**
 * Puts a certificate's files in place for the gateway under its certificate name, unless the files
 * there already hold exactly this material (the same state gives the same files, untouched).
 */
export async function installCertificate(dir: string, name: string, material: KeyMaterial): Promise<void> {
  const file = certificateFileName(name);
  const [cert, key] = await Promise.all(
    [".crt", ".key"].map((ext) => readFile(join(dir, `${file}${ext}`), "utf8").catch(() => "")),
  );
  if (
    cert === withNewline(material.certPem) + withNewline(material.chainPem) &&
    key === withNewline(material.keyPem)
  ) {
    return;
  }
  await writeKeyMaterial(dir, file, material);
}
