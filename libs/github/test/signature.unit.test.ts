import { describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../src/index.ts";

// The test vector from GitHub's "Validating webhook deliveries" documentation.
const secret = "It's a Secret to Everybody";
const payload = "Hello, World!";
const header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

describe("verifyWebhookSignature", () => {
  it("accepts GitHub's published test vector", async () => {
    expect(await verifyWebhookSignature(secret, payload, header)).toBe(true);
  });

  it("rejects an altered body", async () => {
    expect(await verifyWebhookSignature(secret, "Hello, World?", header)).toBe(false);
    expect(await verifyWebhookSignature(secret, `${payload}\n`, header)).toBe(false);
  });

  it("rejects the wrong secret", async () => {
    expect(await verifyWebhookSignature("It's a secret to everybody", payload, header)).toBe(false);
  });

  it("returns false for a missing or malformed header instead of throwing", async () => {
    for (const bad of [
      undefined,
      "",
      "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59",
      "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      "sha256=757107ea",
      `${header}0`,
      header.toUpperCase(),
      "sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    ]) {
      expect(await verifyWebhookSignature(secret, payload, bad), String(bad)).toBe(false);
    }
  });

  it("returns false for an empty body", async () => {
    expect(await verifyWebhookSignature(secret, "", header)).toBe(false);
  });

  it("refuses to verify with an empty secret", async () => {
    await expect(verifyWebhookSignature("", payload, header)).rejects.toThrow(TypeError);
  });
});
