import { idSchema } from "@edgeplane/domain";
import { z } from "zod";

/**
 * What a job is about. Signed by its producer; checked by its consumer against Postgres. The queue and
 * job id it was enqueued under are signed with it, so a signed job copied to another queue or re-added
 * under another id is refused.
 */
export const envelopeSchema = z.strictObject({
  queue: z.string().min(1).max(64),
  jobId: z.string().min(1).max(256),
  deploymentId: idSchema("deployment").nullable(),
  environmentId: idSchema("environment"),
  projectId: idSchema("project"),
  generation: z.number().int().nonnegative(),
  image: z.string().max(512).nullable(),
  issuedAt: z.number().int().positive(),
  kid: z.string().regex(/^[0-9a-f]{16}$/),
});
export type Envelope = z.infer<typeof envelopeSchema>;
export type EnvelopeInput = Omit<Envelope, "issuedAt" | "kid" | "queue" | "jobId">;

/** Where a job sits: the queue and the exact job id its producer enqueued it under (resync suffix included). */
export interface JobBinding {
  queue: string;
  jobId: string;
}

/** The job's data in Redis: the exact signed bytes and their signature. Nothing else, no secrets. */
export const signedJobSchema = z.strictObject({
  envelope: z.string().min(2).max(4096),
  signature: z.string().regex(/^[A-Za-z0-9+/=_-]+$/),
});
export type SignedJob = z.infer<typeof signedJobSchema>;
