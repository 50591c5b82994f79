import { describe, expect, it } from "vitest";
import {
  createSigner,
  createVerifier,
  generateSigningKey,
  JobRejected,
  parsePublicKeys,
} from "../src/index.ts";

const key = generateSigningKey();
const other = generateSigningKey();
const input = {
  deploymentId: "dep_0123abcd",
  environmentId: "env_0123abcd",
  projectId: "prj_0123abcd",
  generation: 3,
  image: "127.0.0.1:5001/acme/web:sha-1",
};
const binding = { queue: "reconcile", jobId: "reconcile-env_0123abcd-g3-apply" };

function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof JobRejected) return error.reason;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("signed job envelopes", () => {
  const verifier = createVerifier(parsePublicKeys(`${key.kid}=${key.publicKey}`), 60_000);

  it("round-trips a signed envelope", () => {
    const job = createSigner(key.privateKey).sign(input, binding);
    const envelope = verifier.verify(job, binding);
    expect(envelope).toMatchObject({ ...input, ...binding, kid: key.kid });
  });

  it("refuses unsigned data", () => {
    expect(rejection(() => verifier.verify({ envelope: JSON.stringify(input) }))).toBe("unsigned");
    expect(rejection(() => verifier.verify(input))).toBe("unsigned");
  });

  it("refuses a tampered envelope", () => {
    const job = createSigner(key.privateKey).sign(input, binding);
    const tampered = { ...job, envelope: job.envelope.replace('"generation":3', '"generation":9') };
    expect(rejection(() => verifier.verify(tampered))).toBe("bad-signature");
  });

  it("refuses a key it does not trust, even with a valid signature", () => {
    const job = createSigner(other.privateKey).sign(input, binding);
    expect(rejection(() => verifier.verify(job))).toBe("unknown-key");
  });

  it("refuses a stale envelope", () => {
    const old = createSigner(key.privateKey, () => Date.now() - 120_000).sign(input, binding);
    expect(rejection(() => verifier.verify(old))).toBe("stale");
  });

  it("refuses a signed job taken from another queue or under another job id", () => {
    const job = createSigner(key.privateKey).sign(input, binding);
    expect(rejection(() => verifier.verify(job, { ...binding, queue: "ingress" }))).toBe("misbound");
    expect(rejection(() => verifier.verify(job, { ...binding, jobId: `replay-${binding.jobId}` }))).toBe(
      "misbound",
    );
    // a resync suffix is part of the id: a job signed without it does not pass for the resynced one
    expect(rejection(() => verifier.verify(job, { ...binding, jobId: `${binding.jobId}-r42` }))).toBe(
      "misbound",
    );
    // and the binding itself is signed: rewriting it in the envelope breaks the signature
    const moved = { ...job, envelope: job.envelope.replace('"queue":"reconcile"', '"queue":"ingress"') };
    expect(moved.envelope).not.toBe(job.envelope);
    expect(rejection(() => verifier.verify(moved, { ...binding, queue: "ingress" }))).toBe("bad-signature");
  });

  it("refuses a kid that does not match its key", () => {
    expect(() => parsePublicKeys(`${other.kid}=${key.publicKey}`)).toThrow(/does not match/);
  });
});
