import { x509 } from "./x509.ts";

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

/** Reads the first certificate of a PEM (a leaf, or a full chain starting with its leaf). */
export function readCertificateInfo(pem: string): CertificateInfo {
  const { SubjectAlternativeNameExtension, X509Certificate } = x509();
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
