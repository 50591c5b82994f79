import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from "node:crypto";
import { z } from "zod";
import type { RegistryCredentials } from "./client.ts";

/**
 * A project's registry credentials at rest, sealed to a key pair (X25519, HKDF-SHA256, AES-256-GCM):
 * the API holds only the public half, so it can store credentials but never read them back; the
 * staging worker alone holds the private half and opens them for that project's deployments. A
 * database dump holds only ciphertext. Sealed form: `edgeplane-box:v1:` + base64(ephemeral public
 * key ‖ iv ‖ tag ‖ ciphertext).
 */
const PREFIX = "edgeplane-box:v1:";
const INFO = Buffer.from("edgeplane project registry credentials");
const RAW_KEY = /^[A-Za-z0-9_-]{43}$/;

/** Credentials per registry host (`ghcr.io`, `registry.example.com:5000`). */
export type RegistryCredentialMap = Record<string, RegistryCredentials>;

const credentialMap = z.record(z.string(), z.object({ username: z.string(), password: z.string() }));

export class SealedCredentialsError extends Error {
  override name = "SealedCredentialsError";
}

/** A new key pair, each half as 32 raw bytes in base64url. */
export function generateCredentialsKeyPair(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const jwk = privateKey.export({ format: "jwk" });
  return { publicKey: publicKey.export({ format: "jwk" }).x as string, privateKey: jwk.d as string };
}

export function isCredentialsKey(value: string): boolean {
  return RAW_KEY.test(value);
}

const publicKeyObject = (x: string) =>
  createPublicKey({ key: { kty: "OKP", crv: "X25519", x }, format: "jwk" });

function privateKeyObject(d: string): { privateKey: KeyObject; x: string } {
  // the public half is derived from the private one: JWK import needs both
  const derived = createPublicKey(
    createPrivateKey({ key: { kty: "OKP", crv: "X25519", d, x: "A".repeat(43) }, format: "jwk" }),
  );
  const x = derived.export({ format: "jwk" }).x as string;
  return { privateKey: createPrivateKey({ key: { kty: "OKP", crv: "X25519", d, x }, format: "jwk" }), x };
}

function aeadKey(shared: Buffer, ephemeral: Buffer, recipient: string): Buffer {
  const salt = Buffer.concat([ephemeral, Buffer.from(recipient, "base64url")]);
  return Buffer.from(hkdfSync("sha256", shared, salt, INFO, 32));
}

export function sealCredentials(credentials: RegistryCredentialMap, publicKey: string): string {
  if (!isCredentialsKey(publicKey))
    throw new SealedCredentialsError("the credentials public key is malformed");
  const recipient = publicKeyObject(publicKey);
  const ephemeral = generateKeyPairSync("x25519");
  const ephemeralRaw = Buffer.from(ephemeral.publicKey.export({ format: "jwk" }).x as string, "base64url");
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const iv = Buffer.from(hkdfSync("sha256", shared, ephemeralRaw, "iv", 12));
  const cipher = createCipheriv("aes-256-gcm", aeadKey(shared, ephemeralRaw, publicKey), iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(credentials), "utf8"), cipher.final()]);
  return `${PREFIX}${Buffer.concat([ephemeralRaw, iv, cipher.getAuthTag(), ciphertext]).toString("base64")}`;
}

/** The credentials; a SealedCredentialsError (naming neither them nor the key) if they do not open. */
export function openCredentials(sealed: string, privateKey: string): RegistryCredentialMap {
  if (!sealed.startsWith(PREFIX)) throw new SealedCredentialsError("registry credentials are not sealed");
  if (!isCredentialsKey(privateKey)) throw new SealedCredentialsError("the credentials key is malformed");
  const raw = Buffer.from(sealed.slice(PREFIX.length), "base64");
  if (raw.length < 32 + 12 + 16 + 1)
    throw new SealedCredentialsError("sealed registry credentials are truncated");
  const ephemeralRaw = raw.subarray(0, 32);
  const { privateKey: key, x } = privateKeyObject(privateKey);
  const shared = diffieHellman({
    privateKey: key,
    publicKey: publicKeyObject(ephemeralRaw.toString("base64url")),
  });
  const decipher = createDecipheriv("aes-256-gcm", aeadKey(shared, ephemeralRaw, x), raw.subarray(32, 44));
  decipher.setAuthTag(raw.subarray(44, 60));
  let text: string;
  try {
    text = Buffer.concat([decipher.update(raw.subarray(60)), decipher.final()]).toString("utf8");
  } catch {
    throw new SealedCredentialsError(
      "registry credentials do not open with this EDGEPLANE_CREDENTIALS_KEY (not the key they were sealed to?)",
    );
  }
  return credentialMap.parse(JSON.parse(text));
}
