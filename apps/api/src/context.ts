import type { Principal, ServiceContext } from "@edgeplane/services";
import type { Logger } from "@edgeplane/log";

export interface ApiDeps {
  services: ServiceContext;
  adminToken: string;
  log: Logger;
  bodyLimitBytes: number;
  checkReady: () => Promise<void>;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    principal: Principal;
  };
};
