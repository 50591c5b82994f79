// A docker-compose file read into what edgeplane deploys: services, named volumes and the order to
// start them in, with everything a preview environment may not do refused. Pure: no I/O.
export { ComposeError } from "./error.ts";
export { edgeplaneVariables, urlVariable } from "./hosts.ts";
export { type ParseComposeOptions, parseCompose } from "./parse.ts";
export { MAX_COMPOSE_BYTES } from "./read-yaml.ts";
export { startOrder } from "./start-order.ts";
export type {
  ComposeApp,
  Dependency,
  DependencyCondition,
  Healthcheck,
  Mount,
  ResourceLimits,
  ServiceSpec,
  VolumeSpec,
} from "./types.ts";
export { interpolate, referencedVariables } from "./variables.ts";
