import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures, type TokenFixture } from "./fixtures.ts";
import {
  contractDocument,
  type DocumentedOperation,
  exampleBody,
  fillPath,
  operationsOf,
} from "./operations.ts";

// The security cases of every protected route, generated from the OpenAPI document: 401 without a
// token and with a wrong one; 403 for a token without the route's scope (`x-edgeplane-scope`), and,
// where the route acts on a project (`x-edgeplane-project`), for a token granted another project.
// Every refusal is checked to have changed nothing.
const fx = routeFixtures();
const { h, ciWeb, readWeb, ciApi, createToken, deploy, refused } = fx;

const { document } = await contractDocument();
const operations = operationsOf(document);
const protectedOps = operations.filter((op) => op.protected);
const scoped = protectedOps.filter((op) => op.scope);
const perProject = protectedOps.filter((op) => op.perProject);
const label = (op: DocumentedOperation) => `${op.method} ${op.path}`;

// real resources of project `web`, so a route gets as far as asking whether the token may act on it
const values: Record<string, string> = { project: "web", environment: "auth-env" };
const ids: Record<string, string> = {};
const deployOnly: TokenFixture = { id: "", token: "" };

beforeAll(async () => {
  const deployment = await deploy(ciWeb.token, "web", "auth-env", "ghcr.io/acme/web:auth");
  ids.deployments = deployment.id;
  ids.tokens = (await createToken("auth-victim", ["web"])).id;
  Object.assign(deployOnly, await createToken("deploy-only", ["web"], ["deploy"]));
});

/** The path of `op` filled with this file's real resources. */
function target(op: DocumentedOperation): string {
  const resource = op.path.split("/")[2] ?? "";
  return fillPath(op, { ...values, ...(ids[resource] ? { id: ids[resource] } : {}) });
}

/** A token of project `web` that lacks `scope`. */
function lacking(scope: "admin" | "deploy" | "read"): string {
  if (scope === "admin") return ciWeb.token;
  return scope === "deploy" ? readWeb.token : deployOnly.token;
}

describe("every protected route", () => {
  it("the document lists protected routes, with a scope where one is needed", () => {
    expect(protectedOps.length).toBeGreaterThanOrEqual(15);
    expect(scoped.length).toBeGreaterThan(0);
    expect(perProject.length).toBeGreaterThan(0);
  });

  it.each(protectedOps.map((op) => [label(op), op] as const))(
    "%s: 401 without a token, and nothing changed",
    async (_label, op) => {
      await refused(op.method, target(op), { token: null, ...exampleBody(op) }, 401, "unauthorized");
    },
  );

  it.each(protectedOps.map((op) => [label(op), op] as const))(
    "%s: 401 with a wrong token, and nothing changed",
    async (_label, op) => {
      const token = `ept_${randomBytes(32).toString("base64url")}`;
      const res = await refused(op.method, target(op), { token, ...exampleBody(op) }, 401, "unauthorized");
      expect(res.text).not.toContain(token);
    },
  );

  it.each(scoped.map((op) => [label(op), op.scope, op] as const))(
    "%s: 403 for a token without the %s scope, and nothing changed",
    async (_label, scope, op) => {
      if (!scope) throw new Error("unscoped");
      await refused(op.method, target(op), { token: lacking(scope), ...exampleBody(op) }, 403, "forbidden");
    },
  );

  it.each(perProject.map((op) => [label(op), op] as const))(
    "%s: 403 for a token of another project, and nothing changed",
    async (_label, op) => {
      await refused(op.method, target(op), { token: ciApi.token, ...exampleBody(op) }, 403, "forbidden");
    },
  );

  it("the routes every token may call answer only with what the token is granted", async () => {
    const open = protectedOps.filter((op) => !op.scope).map(label);
    expect(open.sort()).toEqual(["GET /v1/environments", "GET /v1/projects"]);
    const projects = await h.call("GET", "/v1/projects", { token: ciApi.token });
    expect(projects.body.projects.map((p: { name: string }) => p.name)).toEqual(["api"]);
    const environments = await h.call("GET", "/v1/environments", { token: ciApi.token });
    expect(environments.status).toBe(200);
    expect(environments.body.environments).toEqual([]);
    expectError(await h.call("GET", "/v1/environments", { token: null }), 401, "unauthorized");
  });
});

auditSecrets(fx);
