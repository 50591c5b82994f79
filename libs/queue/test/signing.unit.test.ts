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
    const job = createSigner(key.privateKey).sign(input);
    const envelope = verifier.verify(job);
    expect(envelope).toMatchObject({ ...input, kid: key.kid });
  });

  it("refuses unsigned data", () => {
    expect(rejection(() => verifier.verify({ envelope: JSON.stringify(input) }))).toBe("unsigned");
    expect(rejection(() => verifier.verify(input))).toBe("unsigned");
  });

  it("refuses a tampered envelope", () => {
    const job = createSigner(key.privateKey).sign(input);
    const tampered = { ...job, envelope: job.envelope.replace('"generation":3', '"generation":9') };
    expect(rejection(() => verifier.verify(tampered))).toBe("bad-signature");
  });

  it("refuses a key it does not trust, even with a valid signature", () => {
    const job = createSigner(other.privateKey).sign(input);
    expect(rejection(() => verifier.verify(job))).toBe("unknown-key");
  });

  it("refuses a stale envelope", () => {
    const old = createSigner(key.privateKey, () => Date.now() - 120_000).sign(input);
    expect(rejection(() => verifier.verify(old))).toBe("stale");
  });

  it("refuses a kid that does not match its key", () => {
    expect(() => parsePublicKeys(`${other.kid}=${key.publicKey}`)).toThrow(/does not match/);
  });
});
