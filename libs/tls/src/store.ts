import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { SubjectAlternativeNameExtension, X509Certificate } from "./x509.ts";

export interface KeyMaterial {
  certPem: string;
  keyPem: string;
  chainPem: string;
}

export interface CertificateInfo {
  notBefore: Date;
  notAfter: Date;
  /** DNS names from the subject alternative names, in certificate order. */
  hostnames: string[];
}

const dayMs = 24 * 60 * 60 * 1000;
const fileName = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

function withNewline(pem: string): string {
  const trimmed = pem.trim();
  return trimmed === "" ? "" : `${trimmed}\n`;
}

/** Writes `contents` to a temp file beside `path`, syncs it, and renames it over `path`. */
async function writeAtomically(path: string, contents: string, mode: number): Promise<void> {
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
 * reload the gateway after this returns. `name` is a plain file name: a wildcard such as `*.preview.test`
 * must be mapped by the caller (for example to `_wildcard.preview.test`).
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
  await writeAtomically(keyPath, withNewline(material.keyPem), 0o600);
  await writeAtomically(certPath, withNewline(material.certPem) + withNewline(material.chainPem), 0o644);
  return { certPath, keyPath };
}

/** Reads the first certificate of a PEM (a leaf, or a full chain starting with its leaf). */
export function readCertificateInfo(pem: string): CertificateInfo {
  const cert = new X509Certificate(pem);
  const san = cert.getExtension(SubjectAlternativeNameExtension);
  const hostnames = san
    ? san.names.items.filter((item) => item.type === "dns").map((item) => item.value)
    : [];
  return { notBefore: cert.notBefore, notAfter: cert.notAfter, hostnames };
}

/** True once `now` is within `renewBeforeDays` of `notAfter` (or past it). */
export function needsRenewal(notAfter: Date, now: Date, renewBeforeDays = 30): boolean {
  return notAfter.getTime() - now.getTime() <= renewBeforeDays * dayMs;
}
