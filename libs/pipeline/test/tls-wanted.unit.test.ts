import { describe, expect, it } from "vitest";
import { coveringName, wantedCertificates } from "../src/tls/wanted.ts";

const acme = (challenge: "dns-01" | "http-01") => ({
  mode: "acme",
  directoryUrl: "https://acme.example/dir",
  challenge,
  ...(challenge === "dns-01" ? { dns: { provider: "httpreq", endpoint: "https://hook.example" } } : {}),
});

describe("wantedCertificates", () => {
  const projects = [
    { id: "prj_off", domain: "off.test", tls: { mode: "off" } },
    { id: "prj_local", domain: "local.test", tls: { mode: "local" } },
    { id: "prj_dns", domain: "dns.test", tls: acme("dns-01") },
    { id: "prj_http", domain: "http.test", tls: acme("http-01") },
    { id: "prj_broken", domain: "broken.test", tls: { mode: "acme" } },
  ];
  const routed = [
    { projectId: "prj_off", hostname: "pr-1.off.test" },
    { projectId: "prj_dns", hostname: "pr-1.dns.test" },
    { projectId: "prj_http", hostname: "pr-2.http.test" },
    { projectId: "prj_http", hostname: "dev.http.test" },
    { projectId: "prj_http", hostname: "dev.http.test" },
  ];

  it("asks for one wildcard per local or DNS-01 project and one certificate per routed host for HTTP-01", () => {
    const wanted = wantedCertificates(projects, routed).map((w) => [
      w.projectId,
      w.name,
      w.hostnames,
      w.issuer,
    ]);
    expect(wanted).toEqual([
      ["prj_local", "*.local.test", ["*.local.test"], "local"],
      ["prj_dns", "*.dns.test", ["*.dns.test"], "acme"],
      ["prj_http", "dev.http.test", ["dev.http.test"], "acme"],
      ["prj_http", "pr-2.http.test", ["pr-2.http.test"], "acme"],
    ]);
  });

  it("finds the certificate covering a host: its own, else the wildcard one level up", () => {
    const names = new Set(["*.dns.test", "dev.http.test"]);
    expect(coveringName("pr-1.dns.test", names)).toBe("*.dns.test");
    expect(coveringName("a.pr-1.dns.test", names)).toBeUndefined();
    expect(coveringName("dev.http.test", names)).toBe("dev.http.test");
    expect(coveringName("pr-2.http.test", names)).toBeUndefined();
  });
});
