import { NginxGateway } from "./nginx.ts";

/** The gateway settings every process that renders it reads from its environment. */
export interface GatewayEnvFields {
  EDGEPLANE_GATEWAY_DIR: string;
  EDGEPLANE_GATEWAY_HOST: string;
  EDGEPLANE_GATEWAY_PORT: number;
  EDGEPLANE_GATEWAY_HTTPS_PORT: number;
  EDGEPLANE_NGINX_BIN: string;
  EDGEPLANE_CONTROL_URL: string;
}

/** One gateway definition for `edgeplane up` (which starts nginx) and worker-ingress (which renders it). */
export function gatewayFromEnv(env: GatewayEnvFields): NginxGateway {
  return new NginxGateway({
    dir: env.EDGEPLANE_GATEWAY_DIR,
    listenHost: env.EDGEPLANE_GATEWAY_HOST,
    listenPort: env.EDGEPLANE_GATEWAY_PORT,
    nginxBin: env.EDGEPLANE_NGINX_BIN,
    httpsPort: env.EDGEPLANE_GATEWAY_HTTPS_PORT,
    controlUrl: env.EDGEPLANE_CONTROL_URL,
  });
}
