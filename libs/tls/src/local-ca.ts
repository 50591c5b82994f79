import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, webcrypto } from "node:crypto";
import type { X509Certificate } from "@peculiar/x509";
import { isCertificateName } from "./dns-name.ts";
import {
  decodePermittedDomains,
  encodeNameConstraints,
  NAME_CONSTRAINTS_OID,
  normalizeDomains,
  withinDomain,
} from "./name-constraints.ts";
import { x509 } from "./x509.ts";

/** edgeplane's own root: a self-signed certificate and its PKCS#8 private key, both PEM. */
export interface LocalCa {
  certPem: string;
  keyPem: string;
}

export interface IssuedCertificate {
  /** The leaf certificate alone. */
  certPem: string;
  /** PKCS#8 private key of the leaf. */
  keyPem: string;
  /** The certificates above the leaf (here: the root), to serve after it. */
  chainPem: string;
  notAfter: Date;
}

const crypto = webcrypto;
type CryptoKey = webcrypto.CryptoKey;
const keyAlgorithm = { name: "ECDSA", namedCurve: "P-256" } as const;
const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" } as const;
const dayMs = 24 * 60 * 60 * 1000;
/** Backdating absorbs clock skew between the machine that issues and the one that verifies. */
const backdateMs = 60 * 60 * 1000;

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(keyAlgorithm, true, ["sign", "verify"]);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" })
    .export({ type: "pkcs8", format: "pem" })
    .toString();
}

function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const key: KeyObject = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new Error("local CA key must be ECDSA P-256");
  }
  const der = key.export({ type: "pkcs8", format: "der" });
  return crypto.subtle.importKey("pkcs8", der, keyAlgorithm, false, ["sign"]);
}

/** A random 16-byte serial, as hex; the first byte is kept positive and non-zero for DER. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function certificatePem(cert: X509Certificate): string {
  return `${cert.toString("pem")}\n`;
}

/** The key pair of an existing CA key, to issue its root again (same key, so its leaves still chain). */
async function existingKeys(keyPem: string): Promise<webcrypto.CryptoKeyPair> {
  const spki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  return {
    privateKey: await importSigningKey(keyPem),
    publicKey: await crypto.subtle.importKey("spki", spki, keyAlgorithm, true, ["verify"]),
  };
}

export interface LocalCaOptions {
  commonName?: string;
  now?: Date;
  /**
   * The DNS domains the CA may certify (each with every name below it), as a critical name
   * constraint; IP addresses are excluded then. Without it the CA is unconstrained (tests only).
   */
  permittedDomains?: string[];
  /** Issue the root again for this existing key (PEM) instead of a new one. */
  keyPem?: string;
}

/**
 * A self-signed root. With `keyPem`, the root of an existing CA issued again (with other name
 * constraints, say): same subject and key, so certificates it issued before still chain to it.
 */
export async function createLocalCa(options: LocalCaOptions = {}): Promise<LocalCa> {
  const commonName = options.commonName ?? "edgeplane local CA";
  if (commonName.trim() === "") throw new Error("local CA common name must not be empty");
  const {
    BasicConstraintsExtension,
    Extension,
    KeyUsageFlags,
    KeyUsagesExtension,
    SubjectKeyIdentifierExtension,
    X509CertificateGenerator,
  } = x509();
  const now = options.now ?? new Date();
  const keys = options.keyPem ? await existingKeys(options.keyPem) : await generateKeys();
  const constraints = options.permittedDomains
    ? [new Extension(NAME_CONSTRAINTS_OID, true, encodeNameConstraints(options.permittedDomains))]
    : [];
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 10);
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: [{ CN: [commonName] }],
      notBefore: new Date(now.getTime() - backdateMs),
      notAfter,
      keys,
      signingAlgorithm,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        ...constraints,
      ],
    },
    crypto,
  );
  return {
    certPem: certificatePem(cert),
    keyPem: options.keyPem ?? (await privateKeyPem(keys.privateKey)),
  };
}

/** The DNS domains a CA root may certify; undefined when it carries no name constraints. */
export function permittedDomains(certPem: string): string[] | undefined {
  const extension = new (x509().X509Certificate)(certPem).getExtension(NAME_CONSTRAINTS_OID);
  return extension ? decodePermittedDomains(Buffer.from(extension.value)) : undefined;
}

/** Whether a CA root's name constraints cover every one of `domains` (an unconstrained root does not). */
export function coversDomains(certPem: string, domains: string[]): boolean {
  const permitted = permittedDomains(certPem);
  if (!permitted) return false;
  return normalizeDomains(domains).every((d) => permitted.some((p) => withinDomain(d, p)));
}

/**
 * Issues a server certificate for `hostnames` (wildcards such as `*.preview.test` allowed), signed by the
 * local CA. Refuses a validity that would outlast the CA, since clients would reject the leaf then anyway.
 */
export async function issueCertificate(
  ca: LocalCa,
  options: { hostnames: string[]; validDays?: number; now?: Date },
): Promise<IssuedCertificate> {
  const hostnames = [...new Set(options.hostnames)];
  const [commonName] = hostnames;
  if (commonName === undefined) throw new Error("a certificate needs at least one hostname");
  const invalid = hostnames.filter((name) => !isCertificateName(name));
  if (invalid.length > 0)
    throw new Error(`not lowercase DNS names: ${invalid.map((n) => JSON.stringify(n)).join(", ")}`);
  const validDays = options.validDays ?? 90;
  if (!Number.isInteger(validDays) || validDays < 1) throw new Error("validDays must be a positive integer");

  const {
    AuthorityKeyIdentifierExtension,
    BasicConstraintsExtension,
    ExtendedKeyUsage,
    ExtendedKeyUsageExtension,
    KeyUsageFlags,
    KeyUsagesExtension,
    SubjectAlternativeNameExtension,
    SubjectKeyIdentifierExtension,
    X509Certificate,
    X509CertificateGenerator,
  } = x509();
  const caCert = new X509Certificate(ca.certPem);
  const caKey = await importSigningKey(ca.keyPem);
  const now = options.now ?? new Date();
  const notAfter = new Date(now.getTime() + validDays * dayMs);
  if (notAfter > caCert.notAfter)
    throw new Error("certificate would outlast the local CA; renew the CA first");

  const caKeyId = caCert.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  const keys = await generateKeys();
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: [{ CN: [commonName] }],
      issuer: caCert.subjectName,
      notBefore: new Date(now.getTime() - backdateMs),
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension(hostnames.map((value) => ({ type: "dns" as const, value }))),
        caKeyId
          ? new AuthorityKeyIdentifierExtension(caKeyId)
          : await AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return {
    certPem: certificatePem(cert),
    keyPem: await privateKeyPem(keys.privateKey),
    chainPem: ca.certPem.endsWith("\n") ? ca.certPem : `${ca.certPem}\n`,
    notAfter: cert.notAfter,
  };
}
