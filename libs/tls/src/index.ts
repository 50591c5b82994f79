export {
  type AcmeCertificate,
  type AcmeIssueOptions,
  createAcmeAccountKey,
  type Http01Responder,
  issueAcmeCertificate,
  splitChain,
} from "./acme.ts";
export {
  CaKeyError,
  generateCaKeySecret,
  isSealedCaKey,
  openCaKey,
  parseCaKeySecret,
  sealCaKey,
} from "./ca-key.ts";
export { type HttpreqOptions, httpreqProvider } from "./dns/httpreq.ts";
export type { DnsProvider } from "./dns/provider.ts";
export { queryTxt } from "./dns/query.ts";
export {
  buildUpdate,
  DnsUpdateError,
  type Rfc2136Options,
  rfc2136Provider,
  sendUpdate,
  txtRecord,
} from "./dns/rfc2136.ts";
export { type DnsServer, type ExchangeOptions, exchange } from "./dns/transport.ts";
export {
  responseTsigError,
  signMessage,
  TSIG_ERRORS,
  TSIG_FUDGE,
  TsigError,
  type TsigKey,
  verifyResponse,
} from "./dns/tsig.ts";
export {
  CLASS,
  type DecodedMessage,
  DnsWireError,
  decodeMessage,
  decodeName,
  decodeTxt,
  encodeMessage,
  encodeName,
  encodeQuestion,
  encodeRecord,
  encodeTxt,
  flags,
  type Message,
  OPCODE,
  type Question,
  type ResourceRecord,
  rcodeName,
  TYPE,
} from "./dns/wire.ts";
export { isCertificateName } from "./dns-name.ts";
export {
  coversDomains,
  createLocalCa,
  type IssuedCertificate,
  issueCertificate,
  type LocalCa,
  type LocalCaOptions,
  permittedDomains,
} from "./local-ca.ts";
export { renewalDue, renewalTime } from "./renewal.ts";
export {
  type AcmeTlsSettings,
  acmeTlsSettings,
  type DnsProviderSettings,
  dnsProviderSettings,
  hasTls,
  httpreqSettings,
  readTlsSettings,
  rfc2136Settings,
  type TlsSettings,
  tlsSettings,
  tlsSettingsView,
  wildcardName,
} from "./settings.ts";
export { type CertificateInfo, type KeyMaterial, needsRenewal, readCertificateInfo } from "./store.ts";
