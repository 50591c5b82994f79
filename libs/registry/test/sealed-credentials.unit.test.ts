import { describe, expect, it } from "vitest";
import {
  generateCredentialsKeyPair,
  openCredentials,
  SealedCredentialsError,
  sealCredentials,
} from "../src/sealed-credentials.ts";

describe("sealed registry credentials", () => {
  const pair = generateCredentialsKeyPair();
  const credentials = { "ghcr.io": { username: "acme-bot", password: "ghp_0123456789abcdefghij" } };

  it("opens with the private half only what was sealed to the public half", () => {
    const sealed = sealCredentials(credentials, pair.publicKey);
    expect(sealed.startsWith("edgeplane-box:v1:")).toBe(true);
    expect(sealed).not.toContain("ghp_0123456789abcdefghij");
    expect(openCredentials(sealed, pair.privateKey)).toEqual({
      "ghcr.io": { username: "acme-bot", password: "ghp_0123456789abcdefghij" },
    });
  });

  it("seals the same credentials differently each time", () => {
    expect(sealCredentials(credentials, pair.publicKey)).not.toBe(
      sealCredentials(credentials, pair.publicKey),
    );
  });

  it("refuses another key, a changed byte, a truncation and plain text, naming neither", () => {
    const sealed = sealCredentials(credentials, pair.publicKey);
    const other = generateCredentialsKeyPair();
    const raw = Buffer.from(sealed.slice("edgeplane-box:v1:".length), "base64");
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    const tampered = `edgeplane-box:v1:${raw.toString("base64")}`;
    for (const [stored, key] of [
      [sealed, other.privateKey],
      [tampered, pair.privateKey],
      [sealed.slice(0, 40), pair.privateKey],
      ['{"ghcr.io":{"username":"a","password":"b"}}', pair.privateKey],
    ] as const) {
      let thrown: unknown;
      try {
        openCredentials(stored, key);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SealedCredentialsError);
      expect(String((thrown as Error).message)).not.toContain(pair.privateKey);
    }
  });

  it("refuses a malformed public key", () => {
    expect(() => sealCredentials(credentials, "not-a-key")).toThrow(SealedCredentialsError);
  });
});
