import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * The local CA's private key at rest: AES-256-GCM under a 32-byte secret kept outside Postgres
 * (EDGEPLANE_CA_KEY), so a database dump or a process that reads the row (the API) holds only
 * ciphertext. Sealed form: `edgeplane-sealed:v1:` + base64(iv ‖ tag ‖ ciphertext).
 */
const PREFIX = "edgeplane-sealed:v1:";
// binds the ciphertext to its purpose: the same secret's ciphertexts elsewhere do not open here
const AAD = Buffer.from("edgeplane local CA private key");

export class CaKeyError extends Error {
  override name = "CaKeyError";
}

/** The secret from its base64 form, refusing anything but exactly 32 bytes. */
export function parseCaKeySecret(base64: string): Buffer {
  const secret = Buffer.from(base64, "base64");
  if (secret.length !== 32 || secret.toString("base64") !== base64.trim())
    throw new CaKeyError("the CA key secret must be 32 bytes, base64");
  return secret;
}

export function generateCaKeySecret(): string {
  return randomBytes(32).toString("base64");
}

export function isSealedCaKey(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

export function sealCaKey(keyPem: string, secret: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", secret, iv);
  cipher.setAAD(AAD);
  const ciphertext = Buffer.concat([cipher.update(keyPem, "utf8"), cipher.final()]);
  return `${PREFIX}${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64")}`;
}

/** The PEM key; a CaKeyError (never the key or the secret) if it is not sealed or the secret is wrong. */
export function openCaKey(stored: string, secret: Buffer): string {
  if (!isSealedCaKey(stored)) throw new CaKeyError("the local CA key is not sealed");
  const raw = Buffer.from(stored.slice(PREFIX.length), "base64");
  if (raw.length < 12 + 16 + 1) throw new CaKeyError("the sealed local CA key is truncated");
  const decipher = createDecipheriv("aes-256-gcm", secret, raw.subarray(0, 12));
  decipher.setAAD(AAD);
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    throw new CaKeyError(
      "the local CA key does not open with this EDGEPLANE_CA_KEY (not the key it was sealed with?)",
    );
  }
}
