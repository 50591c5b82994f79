import { describe, expect, it } from "vitest";
import { hostFromHeader, isDnsName } from "../src/dns.ts";

describe("hostFromHeader", () => {
  it.each([
    ["pr-1.preview.test", "pr-1.preview.test"],
    ["PR-1.Preview.Test:8443", "pr-1.preview.test"],
    ["pr-1.preview.test.", "pr-1.preview.test"],
    ["localhost", undefined],
    ["a b.test", undefined],
    ["[::1]:80", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("%j → %j", (header, host) => {
    expect(hostFromHeader(header)).toBe(host);
  });
});

describe("isDnsName", () => {
  it("takes 63 characters per label and 253 in all, and no more", () => {
    const label = "a".repeat(63);
    expect(isDnsName(`${label}.test`)).toBe(true);
    expect(isDnsName(`${label}a.test`)).toBe(false);
    const long = [label, label, label, "a".repeat(61)].join("."); // 253 characters
    expect(long.length).toBe(253);
    expect(isDnsName(long)).toBe(true);
    expect(isDnsName(`a${long}`)).toBe(false);
  });

  it("asks for labels under a domain and accepts a trailing dot only when absolute", () => {
    expect(isDnsName("localhost")).toBe(true);
    expect(isDnsName("localhost", { minLabels: 2 })).toBe(false);
    expect(isDnsName("preview.test.")).toBe(false);
    expect(isDnsName("preview.test.", { absolute: true })).toBe(true);
    expect(isDnsName("Preview.test")).toBe(false);
    expect(isDnsName("-a.test")).toBe(false);
  });
});
