import { describe, expect, it } from "vitest";
import { environmentHostnameOf, serviceHostname } from "../src/services.ts";

describe("serviceHostname", () => {
  it("gives the primary service the environment's own name and others {service}--{environment}", () => {
    expect(serviceHostname("web", "pr-12", "preview.test", "web")).toBe("pr-12.preview.test");
    expect(serviceHostname("api", "pr-12", "preview.test", "web")).toBe("api--pr-12.preview.test");
    expect(serviceHostname("api", "staging", "preview.test", null)).toBe("api--staging.preview.test");
  });
});

describe("environmentHostnameOf", () => {
  it("finds the environment's own hostname behind a service's", () => {
    expect(environmentHostnameOf("api--pr-12.preview.test")).toBe("pr-12.preview.test");
    expect(environmentHostnameOf("pr-12.preview.test")).toBe("pr-12.preview.test");
  });
});
