import { describe, expect, it } from "vitest";
import { auditSecrets, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, ciWeb } = fx;

describe("GET /v1/projects", () => {
  it("lists every project for the admin and only granted ones for a token", async () => {
    const all = await h.call("GET", "/v1/projects");
    expect(all.status).toBe(200);
    expect(all.body.projects.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["api", "web"]),
    );
    const mine = await h.call("GET", "/v1/projects", { token: ciWeb.token });
    expect(mine.status).toBe(200);
    expect(mine.body.projects.map((p: { name: string }) => p.name)).toEqual(["web"]);
  });
});

auditSecrets(fx);
