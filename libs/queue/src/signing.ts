import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import {
  type Envelope,
  type EnvelopeInput,
  envelopeSchema,
  type JobBinding,
  type SignedJob,
  signedJobSchema,
} from "./envelope.ts";

export type RejectReason =
  | "malformed"
  | "unsigned"
  | "unknown-key"
  | "bad-signature"
  | "stale"
  /** Signed for another queue or another job id than the one it was taken from. */
  | "misbound";

export class JobRejected extends Error {
  override name = "JobRejected";
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

export function keyId(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex").slice(0, 16);
}

export function generateSigningKey(): { privateKey: string; publicKey: string; kid: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "der" }).toString("base64"),
    publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
    kid: keyId(publicKey),
  };
}

export interface Signer {
  readonly kid: string;
  /** Signs `input` for exactly one queue and job id: the ones the job is enqueued under. */
  sign(input: EnvelopeInput, binding: JobBinding): SignedJob;
}

export function createSigner(privateKeyBase64: string, now: () => number = Date.now): Signer {
  const privateKey = createPrivateKey({
    key: Buffer.from(privateKeyBase64, "base64"),
    format: "der",
    type: "pkcs8",
  });
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("signing key must be Ed25519");
  const kid = keyId(createPublicKey(privateKey));
  return {
    kid,
    sign(input, binding) {
      const envelope: Envelope = envelopeSchema.parse({
        ...input,
        queue: binding.queue,
        jobId: binding.jobId,
        issuedAt: now(),
        kid,
      });
      const bytes = JSON.stringify(envelope);
      return { envelope: bytes, signature: sign(null, Buffer.from(bytes), privateKey).toString("base64") };
    },
  };
}

/** Parses `kid=base64spki,kid=base64spki`; each kid must match its key. */
export function parsePublicKeys(spec: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error("public keys must be kid=base64-spki");
    const kid = part.slice(0, eq);
    const key = createPublicKey({
      key: Buffer.from(part.slice(eq + 1), "base64"),
      format: "der",
      type: "spki",
    });
    if (key.asymmetricKeyType !== "ed25519") throw new Error(`public key ${kid} is not Ed25519`);
    if (keyId(key) !== kid) throw new Error(`public key ${kid} does not match its kid`);
    keys.set(kid, key);
  }
  if (keys.size === 0) throw new Error("no public keys");
  return keys;
}

export interface Verifier {
  /**
   * The envelope of a job's data, checked. `binding` is where the job was taken from: a worker always
   * passes it (see runWorker); without it only the signature and age are checked, for tools that read
   * jobs without running them.
   */
  verify(data: unknown, binding?: JobBinding): Envelope;
}

/**
 * Verifies with public keys only. Throws JobRejected for anything unsigned, tampered, unknown, stale,
 * or signed for another queue or job id than `binding`.
 */
export function createVerifier(
  publicKeys: Map<string, KeyObject>,
  maxAgeMs: number,
  now: () => number = Date.now,
): Verifier {
  return {
    verify(data, binding) {
      if (data === null || typeof data !== "object" || !("signature" in data)) {
        throw new JobRejected("unsigned", "job carries no signature");
      }
      const job = signedJobSchema.safeParse(data);
      if (!job.success) throw new JobRejected("malformed", "job data is not a signed envelope");
      let raw: unknown;
      try {
        raw = JSON.parse(job.data.envelope);
      } catch {
        throw new JobRejected("malformed", "envelope is not JSON");
      }
      const kid = typeof raw === "object" && raw !== null && "kid" in raw ? String(raw.kid) : "";
      const key = publicKeys.get(kid);
      if (!key) throw new JobRejected("unknown-key", "envelope signed by an unknown key");
      const ok = verify(null, Buffer.from(job.data.envelope), key, Buffer.from(job.data.signature, "base64"));
      if (!ok) throw new JobRejected("bad-signature", "envelope signature does not verify");
      const envelope = envelopeSchema.safeParse(raw);
      if (!envelope.success) throw new JobRejected("malformed", "envelope fields are invalid");
      const age = now() - envelope.data.issuedAt;
      if (age > maxAgeMs) throw new JobRejected("stale", `envelope issued ${Math.round(age / 1000)}s ago`);
      if (age < -60_000) throw new JobRejected("stale", "envelope issued in the future");
      if (binding && envelope.data.queue !== binding.queue)
        throw new JobRejected("misbound", `envelope signed for queue ${envelope.data.queue}`);
      if (binding && envelope.data.jobId !== binding.jobId)
        throw new JobRejected("misbound", "envelope signed for another job id");
      return envelope.data;
    },
  };
}
