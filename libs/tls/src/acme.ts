import { request as httpRequest } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";
import type acmeModule from "acme-client";
import type { DnsProvider } from "./dns/provider.ts";
import { readCertificateInfo } from "./store.ts";

export interface Http01Responder {
  /** Serve `keyAuthorization` at `/.well-known/acme-challenge/<token>` for every host being validated. */
  present(token: string, keyAuthorization: string): Promise<void>;
  cleanup(token: string): Promise<void>;
}

export interface AcmeIssueOptions {
  directoryUrl: string;
  email?: string;
  /** PEM certificates to trust for the ACME server, on top of the usual roots. */
  caBundle?: string;
  /** PEM private key of the ACME account (see `createAcmeAccountKey`); the same key finds the same account. */
  accountKeyPem: string;
  /** The names to certify: `*.preview.test`, or one or more hostnames. */
  hostnames: string[];
  challenge: "dns-01" | "http-01";
  dns?: DnsProvider;
  http?: Http01Responder;
  /** Progress lines for the logs; they never carry key material. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Per request to the ACME server: an unanswered one fails the order, saying so (default 30 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export interface AcmeCertificate {
  certPem: string;
  keyPem: string;
  chainPem: string;
  notBefore: Date;
  notAfter: Date;
}

/** Trust for ACME servers with a private CA, by origin; every request to that origin uses its agent. */
const agents = new Map<string, { bundle: string; agent: Agent }>();
/** Deadlines by origin (the last order's setting); acme-client gives none of its own. */
const deadlines = new Map<string, number>();
/**
 * Origins whose requests hit their deadline during the current order. acme-client answers a request
 * that got no response with a TypeError that has lost the cause; a timer beside axios's own deadline
 * (started first, so it fires first) keeps it, and is cleared once a response comes.
 */
const timedOut = new Set<string>();
type Timed = { edgeplaneDeadline?: NodeJS.Timeout };

/**
 * acme-client (with axios, about 26 MiB in every process that loads it) is loaded on the first ACME
 * order, not when edgeplane starts: most processes never order a certificate.
 */
let loaded: Promise<typeof acmeModule> | null = null;
function loadAcme(): Promise<typeof acmeModule> {
  loaded ??= import("acme-client").then(({ default: acme }) => {
    // acme-client shares one axios instance. Retries on connection errors default to 5 attempts with 5-25 s
    // waits; an unreachable ACME server should fail an attempt within seconds so the next one is rescheduled.
    const settings = (acme.axios.defaults as unknown as { acmeSettings: Record<string, number> })
      .acmeSettings;
    settings.retryMaxAttempts = 2;
    settings.retryDefaultDelay = 1;
    acme.axios.interceptors.request.use((config) => {
      if (config.url) {
        const origin = new URL(config.url).origin;
        const entry = agents.get(origin);
        if (entry) config.httpsAgent = entry.agent;
        const timeoutMs = deadlines.get(origin) ?? DEFAULT_TIMEOUT_MS;
        const timed = config as Timed;
        clearTimeout(timed.edgeplaneDeadline); // a retry of the same request
        timed.edgeplaneDeadline = setTimeout(() => timedOut.add(origin), timeoutMs).unref();
        config.timeout = timeoutMs;
      }
      return config;
    });
    acme.axios.interceptors.response.use(
      (response) => {
        clearTimeout((response.config as Timed).edgeplaneDeadline);
        return response;
      },
      (error: unknown) => {
        clearTimeout((error as { config?: Timed }).config?.edgeplaneDeadline);
        return Promise.reject(error);
      },
    );
    return acme;
  });
  return loaded;
}

/** An axios request that hit its deadline (`timeout of N ms exceeded`), or wraps one. */
function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === "ECONNABORTED" || code === "ETIMEDOUT" || isTimeout(error.cause);
}

function trust(directoryUrl: string, caBundle: string | undefined): void {
  const origin = new URL(directoryUrl).origin;
  if (caBundle === undefined) {
    agents.delete(origin);
    return;
  }
  if (agents.get(origin)?.bundle === caBundle) return;
  agents.set(origin, {
    bundle: caBundle,
    agent: new Agent({ ca: [...rootCertificates, caBundle], keepAlive: false }),
  });
}

/**
 * Fetches the directory once with the same trust acme-client will use. An unreachable server fails here
 * with the cause (`ECONNREFUSED`), where acme-client would fail with a TypeError once its retries ran out.
 */
function probeDirectory(directoryUrl: string, timeoutMs: number): Promise<void> {
  const url = new URL(directoryUrl);
  const agent = agents.get(url.origin)?.agent;
  const where = `ACME directory ${url.origin}${url.pathname}`;
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", ...(agent ? { agent } : {}) }, (res) => {
      res.resume();
      clearTimeout(timer);
      if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve();
      else reject(new Error(`${where} answered ${res.statusCode}`));
    });
    // a deadline for the answer as a whole, not an idle timeout a trickling server could keep alive
    const timer = setTimeout(
      () => req.destroy(new AcmeTimeoutError(`${where} timed out: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error instanceof AcmeTimeoutError
          ? error
          : new Error(`${where} unreachable: ${error.code ?? error.message}`),
      );
    });
    req.end();
  });
}

class AcmeTimeoutError extends Error {
  override name = "AcmeTimeoutError";
}

export async function createAcmeAccountKey(): Promise<string> {
  const acme = await loadAcme();
  return (await acme.crypto.createPrivateEcdsaKey()).toString();
}

/** Splits a PEM chain into the leaf and what follows it. */
export function splitChain(fullChain: string): { certPem: string; chainPem: string } {
  const blocks = fullChain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const [leaf, ...rest] = blocks;
  if (!leaf) throw new Error("ACME server returned no certificate");
  return { certPem: `${leaf}\n`, chainPem: rest.map((b) => `${b}\n`).join("") };
}

/**
 * Orders a certificate from any ACME directory (RFC 8555), answering each authorization with the chosen
 * challenge: DNS-01 through `dns` (a TXT record at `_acme-challenge.<name>`), HTTP-01 through `http`.
 * Challenge records are removed whatever the outcome. The certificate key is a fresh ECDSA P-256 key.
 */
export async function issueAcmeCertificate(options: AcmeIssueOptions): Promise<AcmeCertificate> {
  const origin = new URL(options.directoryUrl).origin;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  deadlines.set(origin, timeoutMs);
  timedOut.delete(origin);
  try {
    return await order(options, timeoutMs);
  } catch (error) {
    if (error instanceof AcmeTimeoutError) throw error;
    if (isTimeout(error) || timedOut.has(origin))
      throw new AcmeTimeoutError(`ACME server at ${origin} timed out: no answer within ${timeoutMs} ms`);
    // acme-client ends its retries on a connection error with a TypeError about a missing response
    if (error instanceof TypeError && /undefined/.test(error.message)) {
      throw new Error(`lost the connection to the ACME server at ${origin}`);
    }
    throw error;
  }
}

async function order(options: AcmeIssueOptions, timeoutMs: number): Promise<AcmeCertificate> {
  const log = options.log ?? (() => {});
  trust(options.directoryUrl, options.caBundle);
  await probeDirectory(options.directoryUrl, timeoutMs);
  const acme = await loadAcme();
  const client = new acme.Client({
    directoryUrl: options.directoryUrl,
    accountKey: options.accountKeyPem,
    backoffAttempts: 15,
    backoffMin: 1000,
    backoffMax: 10_000,
  });
  // find the key's account first: updating an existing account with nothing new is refused by some CAs
  await client.createAccount({ onlyReturnExisting: true }).catch(() =>
    client.createAccount({
      termsOfServiceAgreed: true,
      ...(options.email ? { contact: [`mailto:${options.email}`] } : {}),
    }),
  );
  const order = await client.createOrder({
    identifiers: options.hostnames.map((value) => ({ type: "dns", value })),
  });
  const authorizations = await client.getAuthorizations(order);
  for (const authz of authorizations) {
    if (authz.status === "valid") continue;
    const challenge = authz.challenges.find((c) => c.type === options.challenge);
    if (!challenge)
      throw new Error(`ACME server offers no ${options.challenge} challenge for ${authz.identifier.value}`);
    const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
    let cleanup: () => Promise<void>;
    if (options.challenge === "dns-01") {
      const dns = options.dns;
      if (!dns) throw new Error("dns-01 needs a dns provider");
      const fqdn = `_acme-challenge.${authz.identifier.value}`;
      await dns.present(fqdn, keyAuthorization);
      cleanup = () => dns.cleanup(fqdn, keyAuthorization);
      log("dns-01 record presented", { fqdn });
    } else {
      const http = options.http;
      if (!http) throw new Error("http-01 needs a responder");
      await http.present(challenge.token, keyAuthorization);
      cleanup = () => http.cleanup(challenge.token);
      log("http-01 token presented", { identifier: authz.identifier.value });
    }
    try {
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    } finally {
      await cleanup().catch((error: Error) => log("challenge cleanup failed", { err: error.message }));
    }
  }
  const first = options.hostnames[0];
  const [key, csr] = await acme.crypto.createCsr(
    // a common name is limited to 64 characters; the names that matter are the alternative names
    { ...(first && first.length <= 64 ? { commonName: first } : {}), altNames: options.hostnames },
    await acme.crypto.createPrivateEcdsaKey(),
  );
  const finalized = await client.finalizeOrder(order, csr);
  const fullChain = await client.getCertificate(finalized);
  const { certPem, chainPem } = splitChain(fullChain);
  const info = readCertificateInfo(certPem);
  return { certPem, chainPem, keyPem: key.toString(), notBefore: info.notBefore, notAfter: info.notAfter };
}
