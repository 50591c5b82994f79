import { dnsLabel, domainName, projectName } from "@edgeplane/domain";
import { z } from "zod";

const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be a valid environment variable name");

export const createProjectInput = z.strictObject({
  name: projectName,
  domain: domainName,
  port: z.number().int().min(1).max(65535),
  healthcheckPath: z
    .string()
    .max(256)
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, "must be an absolute URL path")
    .default("/"),
  env: z
    .record(envVarName, z.string().max(8192))
    .refine((env) => Object.keys(env).length <= 200, "at most 200 variables")
    .default({}),
});
export type CreateProjectInput = z.infer<typeof createProjectInput>;
export { dnsLabel };
