import { join } from "node:path";

/** Everything nginx reads or writes lives under one prefix dir, so several gateways never collide. */
export interface GatewayPaths {
  config: string;
  pid: string;
  errorLog: string;
  /** One line per request served for an environment's host (`$msec $host`): how idleness is seen. */
  activityLog: string;
  temp: {
    clientBody: string;
    proxy: string;
    fastcgi: string;
    uwsgi: string;
    scgi: string;
  };
}

export function gatewayPaths(dir: string): GatewayPaths {
  const temp = join(dir, "temp");
  return {
    config: join(dir, "nginx.conf"),
    pid: join(dir, "nginx.pid"),
    errorLog: join(dir, "error.log"),
    activityLog: join(dir, "activity.log"),
    temp: {
      clientBody: join(temp, "client_body"),
      proxy: join(temp, "proxy"),
      fastcgi: join(temp, "fastcgi"),
      uwsgi: join(temp, "uwsgi"),
      scgi: join(temp, "scgi"),
    },
  };
}
