import { describe, expect, it } from "vitest";
import { GatewayConfigError } from "../src/errors.ts";
import { type RenderOptions, renderNginxConfig } from "../src/render.ts";

const opts: RenderOptions = {
  dir: "/srv/edgeplane/gateway",
  listenHost: "127.0.0.1",
  listenPort: 8080,
  controlUrl: "http://127.0.0.1:3000",
};
const route = {
  hostname: "pr-1.preview.test",
  upstreamHost: "10.213.0.5",
  upstreamPort: 8080,
  environmentId: "env_0a1b",
};

describe("renderNginxConfig for protected and sleeping environments", () => {
  it("asks the control plane before serving a protected host, and sends bypass links to it", () => {
    const text = renderNginxConfig([{ ...route, protect: true }], opts);
    expect(text).toContain(
      "    location / {\n      if ($arg_edgeplane_bypass) {\n        rewrite ^ /.edgeplane/bypass last;\n      }\n" +
        "      auth_request /.edgeplane/access;\n      proxy_pass http://10.213.0.5:8080;\n    }\n",
    );
    expect(text).toContain(
      "    location = /.edgeplane/access {\n      internal;\n      proxy_pass http://127.0.0.1:3000/gateway/access;\n",
    );
    expect(text).toContain(
      "    location = /.edgeplane/bypass {\n      internal;\n      proxy_pass http://127.0.0.1:3000/gateway/bypass;\n",
    );
  });

  it("leaves an unprotected host without any of it", () => {
    const text = renderNginxConfig([route], opts);
    expect(text).not.toContain("auth_request");
    expect(text).not.toContain("3000/gateway/");
  });

  it("sends a sleeping environment's requests to the waker, and logs them as activity", () => {
    const text = renderNginxConfig([{ ...route, sleeping: true }], opts);
    expect(text).toContain(
      "    location / {\n      proxy_pass http://127.0.0.1:3000/gateway/wake/;\n      proxy_read_timeout 120s;\n    }\n",
    );
    expect(text).toContain(
      "    access_log /srv/edgeplane/gateway/activity.log edgeplane_activity buffer=16k flush=1s;\n",
    );
    expect(text).not.toContain("10.213.0.5");
  });

  it("refuses either without the control plane's URL", () => {
    const { controlUrl: _, ...without } = opts;
    expect(() => renderNginxConfig([{ ...route, protect: true }], without)).toThrow(GatewayConfigError);
    expect(() => renderNginxConfig([{ ...route, sleeping: true }], without)).toThrow(GatewayConfigError);
  });
});
