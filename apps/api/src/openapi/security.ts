import type { TokenScope } from "@edgeplane/domain";

/** The name of the bearer security scheme in the document's components. */
export const BEARER = "bearer";

/**
 * What a /v1 route declares about access: it needs a bearer token and, unless every token may call
 * it (answers are then limited to the token's projects), the scope it needs, as `x-edgeplane-scope`;
 * `x-edgeplane-project` says the token must also be granted the project the request names.
 */
export function access(scope?: TokenScope, options: { perProject?: boolean } = {}) {
  return {
    security: [{ [BEARER]: [] }],
    ...(scope ? { "x-edgeplane-scope": scope } : {}),
    ...(options.perProject ? { "x-edgeplane-project": true } : {}),
  };
}
