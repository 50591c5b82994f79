import Docker from "dockerode";

export const docker = new Docker({ socketPath: process.env.DOCKER_SOCKET ?? "/var/run/docker.sock" });
export const PRIMARY_REGISTRY = `127.0.0.1:${process.env.EDGEPLANE_PRIMARY_REGISTRY_PORT ?? "5001"}`;
const BASE = process.env.EDGEPLANE_TEST_BASE_IMAGE ?? "edgeplane-test/httpd:base";

export function follow(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
      const failed = output?.find((e) => e.error);
      if (error || failed) reject(error ?? new Error(failed?.error));
      else resolve();
    }),
  );
}

/**
 * Builds a variant of the locally built busybox httpd image (it serves `message` at / and ok at
 * /healthz) and pushes it to the local registry playing ghcr.io, or to `registry` (`host:port`).
 * With `removeLocal`, the built image is removed from Docker after the push, so the runtime has to
 * pull it back. Returns the tag reference.
 */
export async function publishTestImage(
  repository: string,
  tag: string,
  options: {
    message?: string;
    cmd?: string[];
    registry?: string;
    removeLocal?: boolean;
    /** For a private registry. */
    auth?: { username: string; password: string };
  } = {},
) {
  const container = await docker.createContainer({ Image: BASE });
  const changes = [`ENV APP_MESSAGE=${JSON.stringify(options.message ?? `${repository}:${tag}`)}`];
  if (options.cmd) changes.push(`CMD ${JSON.stringify(options.cmd)}`);
  const registry = options.registry ?? PRIMARY_REGISTRY;
  const ref = `${registry}/${repository}`;
  try {
    await container.commit({ repo: ref, tag, changes });
  } finally {
    await container.remove({ force: true });
  }
  await follow(
    await docker.getImage(`${ref}:${tag}`).push({ authconfig: { ...options.auth, serveraddress: registry } }),
  );
  if (options.removeLocal) await docker.getImage(`${ref}:${tag}`).remove();
  return `${ref}:${tag}`;
}
