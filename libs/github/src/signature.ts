import { verify } from "@octokit/webhooks-methods";

const SIGNATURE_HEADER = /^sha256=[0-9a-f]{64}$/;

/**
 * Checks `X-Hub-Signature-256` against the raw request body (the exact bytes GitHub signed, before any
 * JSON parsing). A missing or malformed header is a failed check, never an exception. The comparison
 * is constant time. An empty secret is a configuration error and throws: it must never verify.
 */
export async function verifyWebhookSignature(
  secret: string,
  rawBody: string,
  signatureHeader: string | undefined,
): Promise<boolean> {
  if (!secret) throw new TypeError("webhook secret is empty");
  if (!signatureHeader || !SIGNATURE_HEADER.test(signatureHeader) || !rawBody) return false;
  return verify(secret, rawBody, signatureHeader);
}
