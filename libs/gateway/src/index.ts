// The gateway as one concept: nginx rendered from routes and sites, validated and reloaded without
// dropping a request; the certificates it serves; and repair of a config changed on disk.
export {
  type CertificatePem,
  certificateFileName,
  certificatePem,
  type KeyMaterial,
  writeKeyMaterial,
} from "./certificate-files.ts";
export { type DriftingGateway, watchDrift } from "./drift.ts";
export { GatewayConfigError } from "./errors.ts";
export { type GatewayEnvFields, gatewayFromEnv } from "./from-env.ts";
export { type ApplyResult, NginxGateway, type NginxGatewayOptions } from "./nginx.ts";
export { type GatewayPaths, gatewayPaths } from "./paths.ts";
export { NOT_FOUND_BODY, renderNginxConfig } from "./render.ts";
export { type Route, routeProblem } from "./route.ts";
export type { AcmeChallenge, GatewayExtras, Site } from "./sites.ts";
export type { GatewayTarget } from "./target.ts";
