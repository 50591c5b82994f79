import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { chmod, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { GatewayConfigError } from "./errors.ts";
import { assertHostname } from "./validate.ts";

/** A certificate with its key, as PEM text: what the gateway serves for a name. */
export interface KeyMaterial {
  certPem: string;
  keyPem: string;
  chainPem: string;
}

/** A certificate as the gateway presents it: its chain (leaf first) and its key, as PEM text. */
export interface CertificatePem {
  chain: string;
  key: string;
}

const fileName = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const CERTIFICATE_NAME = /^(?:_wildcard\.)?[a-z0-9.-]+$/;

/** A certificate's name as routes and sites give it (see certificateFileName): a hostname, or `_wildcard.` and one. */
export function assertCertificateName(name: unknown): asserts name is string {
  const ok =
    typeof name === "string" && CERTIFICATE_NAME.test(name) && !name.includes("..") && name.length <= 270;
  if (ok) assertHostname(name.replace(/^_wildcard\./, ""));
  else throw new GatewayConfigError(`invalid certificate name ${JSON.stringify(name)}`);
}

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

/** What `writeKeyMaterial` puts in a certificate's two files. */
export function certificatePem(material: KeyMaterial): CertificatePem {
  return {
    chain: withNewline(material.certPem) + withNewline(material.chainPem),
    key: withNewline(material.keyPem),
  };
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
  const pem = certificatePem(material);
  await writeFileAtomically(keyPath, pem.key, 0o600);
  await writeFileAtomically(certPath, pem.chain, 0o644);
  return { certPath, keyPath };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const KEY_LABELS = new Set(["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"]);

/**
 * PEM text as the gateway puts it into nginx's config: its blocks alone (no text around them, no
 * CR), each block's base64 in lines of 64, a new line after every line. Undefined when a block holds
 * anything but base64 (PEM headers, as an encrypted key has).
 */
function canonicalPem(text: string): string | undefined {
  let canonical = "";
  for (const [, label, body = ""] of text.matchAll(PEM_BLOCK)) {
    const base64 = body.replace(/\s+/g, "");
    if (!BASE64.test(base64)) return undefined;
    canonical += `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
  }
  return canonical;
}

/** The labels of the blocks of canonical PEM text; undefined for any other text. */
function pemLabels(text: string): string[] | undefined {
  return canonicalPem(text) === text ? [...text.matchAll(PEM_BLOCK)].map((m) => m[1] ?? "") : undefined;
}

/** Why `pem` is not canonical PEM of certificates (a chain) and of one key, or undefined. */
export function certificatePemProblem(pem: CertificatePem): string | undefined {
  const chain = pemLabels(pem.chain);
  const key = pemLabels(pem.key);
  if (!chain?.length || chain.some((label) => label !== "CERTIFICATE"))
    return "the certificate file is not PEM certificates";
  if (key?.length !== 1 || !KEY_LABELS.has(key[0] ?? "")) return "the key file is not one PEM private key";
  return undefined;
}

/**
 * The certificates an apply names, as the gateway puts their text into its config: handed over
 * with the apply (from Postgres), never read back from files. nginx loads them at handshakes only,
 * so each is checked here (parsed, its key matching its leaf) as `nginx -t` would have, lest a bad
 * one fail every handshake for its names and nginx log the key it could not use. The same text
 * is checked once (a check costs about a millisecond), however many applies name it.
 */
export class CertificateCheck {
  private readonly checked = new Map<string, CertificatePem>();

  pems(names: Iterable<string>, given: ReadonlyMap<string, KeyMaterial>): Map<string, CertificatePem> {
    const pems = new Map<string, CertificatePem>();
    for (const name of new Set(names)) {
      assertCertificateName(name);
      const material = given.get(name);
      if (!material) throw new GatewayConfigError(`certificate ${name}: named, but not given`);
      const raw = certificatePem(material);
      const pem = { chain: canonicalPem(raw.chain) ?? "", key: canonicalPem(raw.key) ?? "" };
      const before = this.checked.get(name);
      if (before?.chain !== pem.chain || before.key !== pem.key) {
        const problem = certificatePemProblem(pem) ?? keyProblem(pem);
        if (problem) throw new GatewayConfigError(`certificate ${name}: ${problem}`);
        this.checked.set(name, pem);
      }
      pems.set(name, pem);
    }
    return pems;
  }
}

/** Why nginx could not present this leaf with this key, or undefined; never says what the key is. */
function keyProblem(pem: CertificatePem): string | undefined {
  let chain: X509Certificate[];
  try {
    chain = [...pem.chain.matchAll(PEM_BLOCK)].map((block) => new X509Certificate(block[0]));
  } catch {
    return "a certificate in its chain does not parse";
  }
  try {
    if (chain[0]?.checkPrivateKey(createPrivateKey(pem.key))) return undefined;
    return "its key does not belong to its certificate";
  } catch {
    return "its key does not parse";
  }
}
