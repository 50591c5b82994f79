import type Docker from "dockerode";
import { isVolumeNameOf } from "../labels.ts";
import type { VolumeMount } from "../types.ts";

/**
 * The Docker mounts of an environment's container: named volumes only, never a bind, and only that
 * environment's volumes on this instance (and, read-only, those of `readFromEnvironmentId`: the
 * source of a copy). Refused before anything reaches Docker.
 */
export function volumeMounts(
  instance: string,
  environmentId: string,
  mounts: VolumeMount[],
  readFromEnvironmentId?: string,
): Docker.MountConfig {
  return mounts.map((mount) => {
    const readable =
      mount.readOnly &&
      readFromEnvironmentId !== undefined &&
      isVolumeNameOf(mount.volume, instance, readFromEnvironmentId);
    if (!readable && !isVolumeNameOf(mount.volume, instance, environmentId)) {
      throw new Error(
        `refusing to mount volume ${JSON.stringify(mount.volume)}: not a volume of environment ${environmentId} on this edgeplane`,
      );
    }
    if (!mount.target.startsWith("/")) {
      throw new Error(
        `refusing to mount volume ${mount.volume} at ${JSON.stringify(mount.target)}: not an absolute path`,
      );
    }
    return { Type: "volume", Source: mount.volume, Target: mount.target, ReadOnly: mount.readOnly };
  });
}
