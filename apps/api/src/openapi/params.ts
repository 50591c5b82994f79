import { environmentName, idSchema, projectName } from "@edgeplane/domain";
import { z } from "@hono/zod-openapi";

// Path parameters, with the domain's schemas: a malformed one is a 400 naming the parameter.
export const projectParams = z.object({
  project: projectName.meta({ param: { name: "project", in: "path" }, example: "web" }),
});

export const environmentParams = projectParams.extend({
  environment: environmentName.meta({ param: { name: "environment", in: "path" }, example: "pr-42" }),
});

export const deploymentParams = z.object({
  id: idSchema("deployment").meta({
    param: { name: "id", in: "path" },
    example: "dep_00000000000000000000",
  }),
});

export const tokenParams = z.object({
  id: idSchema("token").meta({ param: { name: "id", in: "path" }, example: "tok_00000000000000000000" }),
});
