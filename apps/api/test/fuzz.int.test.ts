import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiHarness, type Reply } from "./support.ts";

// Property-based: hostile names, image references and headers thrown at the real API (real
// Postgres, real queues). Whatever comes in, the answer is the API's error body with a 4xx, and a
// refused request leaves every row and every queue exactly as it was.
const h = new ApiHarness({ bodyLimitBytes: 4096 });
let ci = "";

const RUNS = 60;

const hostileString = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "../../etc/passwd",
    "pr-1; rm -rf /",
    "pr-1\nserver { listen 80; }",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile literal, on purpose
    "${jndi:ldap://x}",
    "$(id)",
    "pr-1 ",
    "PR-1",
    "-pr-1",
    "pr-1-",
    "pr_1",
    "pr-1.evil",
    "a".repeat(49),
    "é",
    "\u0000",
    "<script>alert(1)</script>",
    "pr-1}",
    "'; drop table environments; --",
  ),
);
const hostileImage = fc.oneof(
  hostileString,
  fc.constantFrom(
    "127.0.0.1:5001/acme/web",
    "ACME/web:1",
    "acme/web:tag with space",
    "acme/web@sha256:zz",
    `acme/web:${"t".repeat(129)}`,
    "reg istry/x:1",
    "127.0.0.1:5001/acme/web:sha-1\n",
    "$(rm -rf /)/x:1",
    "evil.test/../x:1",
    "acme//web:1",
    ":1",
    "@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    `${"a/".repeat(200)}x:1`,
  ),
);
const json = fc.jsonValue({ maxDepth: 2 });
/** Header values a client can actually send: visible ASCII and spaces. */
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,80}$/);

// The oracles: what the API must accept, written here from the rules themselves (RFC 1123 names, the
// OCI distribution reference grammar, RFC 3986 paths), by character, independently of the API's
// schemas. A disagreement is a failure of one or the other, never settled by asking the code.

const isLower = (c: string) => c >= "a" && c <= "z";
const isUpper = (c: string) => c >= "A" && c <= "Z";
const isDigit = (c: string) => c >= "0" && c <= "9";
const isHex = (c: string) => isDigit(c) || (c >= "a" && c <= "f");
const isLowerAlnum = (c: string) => isLower(c) || isDigit(c);
const isAlnum = (c: string) => isLowerAlnum(c) || isUpper(c);
const chars = (s: string) => [...s];

/** RFC 1123 label: 1-63 (or `max`) characters of a-z, 0-9 and '-', not starting or ending with '-'. */
function isDnsLabel(value: string, max = 63): boolean {
  if (value.length < 1 || value.length > Math.min(max, 63)) return false;
  if (value.startsWith("-") || value.endsWith("-")) return false;
  return chars(value).every((c) => isLowerAlnum(c) || c === "-");
}

/** A domain for previews: at least two labels joined by dots, 253 characters at most. */
function isDomain(value: string): boolean {
  const labels = value.split(".");
  return value.length <= 253 && labels.length >= 2 && labels.every((l) => isDnsLabel(l));
}

/** A registry host as references name it: a DNS-style name, `localhost` or a bracketed IPv6 address, then an optional port. */
function isRegistryHost(value: string): boolean {
  let host = value;
  let port: string | null = null;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 2) return false;
    if (!chars(value.slice(1, close)).every((c) => isHex(c.toLowerCase()) || c === ":")) return false;
    const after = value.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) return false;
    port = after === "" ? null : after.slice(1);
    host = "";
  } else {
    const colon = value.indexOf(":");
    if (colon >= 0) {
      host = value.slice(0, colon);
      port = value.slice(colon + 1);
    }
    const components = host.split(".");
    const component = (c: string) =>
      c.length > 0 &&
      isAlnum(c[0] ?? "") &&
      isAlnum(c[c.length - 1] ?? "") &&
      chars(c).every((ch) => isAlnum(ch) || ch === "-");
    if (!components.every(component)) return false;
  }
  return port === null || (port.length >= 1 && port.length <= 5 && chars(port).every(isDigit));
}

/** A path component: lowercase alphanumeric runs joined by one separator: '.', '_', '__' or a run of '-'. */
function isPathComponent(value: string): boolean {
  if (value.length === 0) return false;
  if (!isLowerAlnum(value[0] ?? "") || !isLowerAlnum(value[value.length - 1] ?? "")) return false;
  let separator = "";
  for (const c of value) {
    if (isLowerAlnum(c)) {
      const ok = separator === "" || separator === "." || separator === "_" || separator === "__";
      if (!ok && !chars(separator).every((s) => s === "-")) return false;
      separator = "";
    } else if (c === "." || c === "_" || c === "-") separator += c;
    else return false;
  }
  return true;
}

/** A tag: a word character, then up to 127 word characters, '.' or '-'. */
function isTag(value: string): boolean {
  const word = (c: string) => isAlnum(c) || c === "_";
  return (
    value.length >= 1 &&
    value.length <= 128 &&
    word(value[0] ?? "") &&
    chars(value).every((c) => word(c) || c === "." || c === "-")
  );
}

/**
 * An image reference (OCI distribution grammar, Docker's rule for a leading registry) that names a
 * tag or a digest: `[host[:port]/]path[:tag][@sha256:<64 hex>]`, at most 512 characters, the path at
 * most 255. The first component is a registry only if it holds a '.' or a ':' or is `localhost`.
 */
function isImageReference(value: string): boolean {
  if (value.length < 1 || value.length > 512) return false;
  let rest = value;
  let named = false;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const digest = rest.slice(at + 1);
    const hex = digest.slice("sha256:".length);
    if (!digest.startsWith("sha256:") || hex.length !== 64 || !chars(hex).every(isHex)) return false;
    rest = rest.slice(0, at);
    named = true;
  }
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    if (!isTag(rest.slice(colon + 1))) return false;
    rest = rest.slice(0, colon);
    named = true;
  }
  if (!named) return false;
  let components = rest.split("/");
  const first = components[0] ?? "";
  if (components.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    if (!isRegistryHost(first)) return false;
    components = components.slice(1);
  }
  return components.join("/").length <= 255 && components.every(isPathComponent);
}

/** An environment variable name: a letter or '_', then letters, digits or '_', 128 characters at most. */
function isEnvName(value: string): boolean {
  const head = (c: string) => isAlnum(c) && !isDigit(c);
  return (
    value.length >= 1 &&
    value.length <= 128 &&
    (head(value[0] ?? "") || value[0] === "_") &&
    chars(value).every((c) => isAlnum(c) || c === "_")
  );
}

/** An absolute URL path (RFC 3986 path-absolute: '/' then pchars, '/' and %HH escapes), 256 characters at most. */
function isAbsolutePath(value: string): boolean {
  if (!value.startsWith("/") || value.length > 256) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? "";
    if (c === "%") {
      if (!isHex((value[i + 1] ?? "").toLowerCase()) || !isHex((value[i + 2] ?? "").toLowerCase()))
        return false;
      i += 2;
    } else if (!isAlnum(c) && !"-._~!$&'()*+,;=:@/".includes(c)) return false;
  }
  return true;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A deployment request: exactly project, environment and image, each valid. */
function isDeploymentRequest(
  input: unknown,
): input is { project: string; environment: string; image: string } {
  if (!isPlainObject(input)) return false;
  if (Object.keys(input).sort().join(",") !== "environment,image,project") return false;
  const { project, environment, image } = input;
  return (
    typeof project === "string" &&
    isDnsLabel(project, 40) &&
    typeof environment === "string" &&
    isDnsLabel(environment, 48) &&
    typeof image === "string" &&
    isImageReference(image)
  );
}

/** A new project with the fields the property below generates (name, domain, port, healthcheck path, env). */
function isProjectCreation(input: Record<string, unknown>): boolean {
  const { name, domain, port, healthcheckPath, env } = input;
  return (
    typeof name === "string" &&
    isDnsLabel(name, 40) &&
    typeof domain === "string" &&
    isDomain(domain) &&
    typeof port === "number" &&
    Number.isInteger(port) &&
    port >= 1 &&
    port <= 65535 &&
    (healthcheckPath === undefined ||
      (typeof healthcheckPath === "string" && isAbsolutePath(healthcheckPath))) &&
    (env === undefined ||
      (isPlainObject(env) &&
        Object.keys(env).length <= 200 &&
        Object.entries(env).every(([k, v]) => isEnvName(k) && typeof v === "string" && v.length <= 8192)))
  );
}

function expectRefused(res: Reply, statuses: number[]) {
  expect(statuses, `${res.status} ${res.text}`).toContain(res.status);
  expect(res.body).toEqual({
    error: { code: expect.any(String), message: expect.any(String), requestId: expect.any(String) },
  });
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

async function webhookDeliveries(): Promise<number> {
  const [row] = await h.sql`select count(*)::int as n from webhook_deliveries`;
  return row?.n ?? 0;
}

describe("the oracles", () => {
  it("tell valid names, domains, image references, env names and paths from invalid ones", () => {
    for (const ok of ["pr-1", "a", "0", "a-b", "x".repeat(48)]) expect(isDnsLabel(ok, 48)).toBe(true);
    for (const bad of ["", "-a", "a-", "A", "a_b", "a.b", "é", "x".repeat(49), "a b"])
      expect(isDnsLabel(bad, 48)).toBe(false);
    for (const ok of ["preview.test", "x.y", "a-1.b.c"]) expect(isDomain(ok)).toBe(true);
    for (const bad of ["test", "PREVIEW.TEST", "a..b", "*.test", "a.test.", `${"a.".repeat(127)}ab`])
      expect(isDomain(bad)).toBe(false);
    const digest = `sha256:${"0a".repeat(32)}`;
    for (const ok of [
      "127.0.0.1:5001/acme/web:sha-1",
      "nginx:1.27",
      "acme/web:v1",
      "ghcr.io/acme/web-app:Tag_1.2-x",
      `acme/web@${digest}`,
      `acme/web:1@${digest}`,
      "localhost/a/b:1",
      "[::1]:5000/a:1",
      "Registry.Example.com/a__b.c--d:1",
    ])
      expect(isImageReference(ok), ok).toBe(true);
    for (const bad of [
      "127.0.0.1:5001/acme/web",
      "ACME/web:1",
      "acme/web:tag with space",
      "acme/web@sha256:zz",
      `acme/web:${"t".repeat(129)}`,
      "reg istry/x:1",
      "127.0.0.1:5001/acme/web:sha-1\n",
      "evil.test/../x:1",
      "acme//web:1",
      ":1",
      `@${digest}`,
      "a/b_-c:1",
      "a/b___c:1",
      "a/.b:1",
      "-x.test/a:1",
      "x.test:123456/a:1",
      "acme/web:-1",
      `${"a/".repeat(200)}x:1`,
    ])
      expect(isImageReference(bad), bad).toBe(false);
    for (const ok of ["A", "_x", "PATH_2"]) expect(isEnvName(ok)).toBe(true);
    for (const bad of ["", "2x", "A-B", "é", "x".repeat(129)]) expect(isEnvName(bad)).toBe(false);
    for (const ok of ["/", "/ok", "/%41", "/$(id)", "/a:b@c"]) expect(isAbsolutePath(ok)).toBe(true);
    for (const bad of ["", "healthz", "/a b", "/\n", "/%4", "/%zz", "/a?b", "/a#b", `/${"a".repeat(256)}`])
      expect(isAbsolutePath(bad)).toBe(false);
  });
});

beforeAll(async () => {
  await h.start();
  const project = await h.call("POST", "/v1/projects", {
    json: {
      name: "web",
      domain: "preview.test",
      port: 8080,
      repository: "acme/web",
      webhookSecret: "a-webhook-secret-of-ours",
    },
  });
  expect(project.status, project.text).toBe(201);
  ci = (await h.call("POST", "/v1/tokens", { json: { name: "ci-web", projects: ["web"] } })).body.token;
});

afterAll(async () => {
  await h.stop();
});

describe("hostile input, property-based", () => {
  it("POST /v1/deployments: anything invalid is a 400 that changes nothing; the rest is 202 or 404", async () => {
    const body = fc.oneof(
      fc.record({
        project: fc.oneof(fc.constant("web"), hostileString),
        environment: hostileString,
        image: hostileImage,
      }),
      fc.record({ project: fc.constant("web"), environment: fc.constant("pr-1"), image: hostileImage }),
      fc.record({
        project: fc.constant("web"),
        environment: hostileString,
        image: fc.constant("127.0.0.1:5001/acme/web:sha-1"),
      }),
      json,
    );
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const before = await h.snapshot();
        const res = await h.call("POST", "/v1/deployments", { token: ci, json: input });
        if (!isDeploymentRequest(input)) {
          expectRefused(res, [400]);
          expect(await h.snapshot()).toEqual(before);
        } else if (input.project !== "web") {
          expectRefused(res, [403, 404]);
          expect(await h.snapshot()).toEqual(before);
        } else {
          expect(res.status, res.text).toBe(202);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("POST /v1/projects: hostile names, domains, paths and env keys are a 400 that changes nothing", async () => {
    const generated = ["name", "domain", "port", "healthcheckPath", "env"];
    const body = fc.record(
      {
        name: hostileString,
        domain: fc.oneof(
          hostileString,
          fc.constantFrom("preview.test", "x.y", "PREVIEW.TEST", "a..b", "*.test", "a.test."),
        ),
        port: fc.oneof(fc.integer(), fc.constant("8080"), fc.double()),
        healthcheckPath: fc.oneof(
          hostileString,
          fc.constantFrom("/ok", "healthz", "/a b", "/$(id)", "/\n", "/%41", "/a?b"),
        ),
        env: fc.dictionary(hostileString, fc.string({ maxLength: 20 }), { maxKeys: 3 }),
      },
      { requiredKeys: ["name", "domain", "port"] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        expect(Object.keys(input).every((key) => generated.includes(key))).toBe(true);
        if (isProjectCreation(input)) return; // the rare valid one: not this property's business
        const before = await h.snapshot();
        const res = await h.call("POST", "/v1/projects", { json: input });
        expectRefused(res, [400]);
        expect(await h.snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it("hostile Authorization and Content-Type headers: 401 or 400, never anything else, nothing changed", async () => {
    const request = fc.record({
      authorization: fc.option(
        fc.oneof(
          headerValue,
          headerValue.map((v) => `Bearer ${v}`),
          headerValue.map((v) => `Basic ${v}`),
        ),
      ),
      contentType: fc.option(headerValue),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ authorization, contentType }) => {
        const before = await h.snapshot();
        const headers: Record<string, string> = {};
        if (authorization !== null) headers.authorization = authorization;
        if (contentType !== null) headers["content-type"] = contentType;
        const res = await h.call("POST", "/v1/deployments", {
          token: null,
          headers,
          raw: JSON.stringify({
            project: "web",
            environment: "pr-2",
            image: "127.0.0.1:5001/acme/web:sha-1",
          }),
        });
        expectRefused(res, [400, 401]);
        expect(await h.snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it("POST /webhooks/github with hostile headers and bodies: a 4xx, no delivery recorded, nothing changed", async () => {
    const delivery = fc.record({
      event: fc.option(fc.oneof(headerValue, fc.constantFrom("pull_request", "ping", "push"))),
      id: fc.option(fc.oneof(headerValue, fc.uuid())),
      signature: fc.option(fc.oneof(headerValue, fc.stringMatching(/^sha256=[0-9a-f]{64}$/))),
      body: fc.oneof(
        fc.string({ maxLength: 200 }),
        json.map((v) => JSON.stringify(v)),
        fc.record({ action: hostileString, number: fc.integer() }).map((p) =>
          JSON.stringify({
            ...p,
            repository: { full_name: "acme/web" },
            pull_request: { head: { sha: "0".repeat(40) } },
          }),
        ),
      ),
    });
    await fc.assert(
      fc.asyncProperty(delivery, async ({ event, id, signature, body }) => {
        const before = await h.snapshot();
        const deliveries = await webhookDeliveries();
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (event !== null) headers["x-github-event"] = event;
        if (id !== null) headers["x-github-delivery"] = id;
        if (signature !== null) headers["x-hub-signature-256"] = signature;
        const res = await h.call("POST", "/webhooks/github", { token: null, headers, raw: body });
        expectRefused(res, [400, 401, 404, 413]);
        expect(await h.snapshot()).toEqual(before);
        expect(await webhookDeliveries()).toBe(deliveries);
      }),
      { numRuns: RUNS },
    );
  });

  it("hostile path parameters on reads and deletes: a 4xx with the error body, nothing changed", async () => {
    const segment = hostileString
      .map((s) => encodeURIComponent(s))
      .filter((s) => s.length > 0 && s !== "." && s !== "..");
    await fc.assert(
      fc.asyncProperty(segment, segment, async (project, environment) => {
        const before = await h.snapshot();
        const read = await h.call("GET", `/v1/projects/${project}/environments/${environment}`, {
          token: ci,
        });
        const destroyed = await h.call("DELETE", `/v1/projects/${project}/environments/${environment}`, {
          token: ci,
        });
        const deployment = await h.call("GET", `/v1/deployments/${environment}`, { token: ci });
        for (const res of [read, destroyed, deployment]) expectRefused(res, [400, 403, 404]);
        expect(await h.snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });
});
