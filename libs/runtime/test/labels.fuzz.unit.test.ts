import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { labelsFor } from "../src/index.ts";

const SAFE = /^[a-z0-9_-]{1,64}$/;

// Label values come from ids edgeplane generated; anything else is refused before it reaches Docker.
describe("labelsFor under hostile input", () => {
  it("labels only safe values and refuses everything else", () => {
    const value = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.stringMatching(/^[a-z0-9_-]{1,64}$/),
      fc.constantFrom("a=b", "a\nb", "x y", "$(id)"),
    );
    fc.assert(
      fc.property(
        value,
        value,
        value,
        fc.option(value),
        (instance, projectId, environmentId, deploymentId) => {
          const input = { instance, projectId, environmentId, generation: 1, deploymentId };
          const safe = [
            instance,
            projectId,
            environmentId,
            ...(deploymentId === null ? [] : [deploymentId]),
          ].every((v) => SAFE.test(v));
          if (!safe) {
            expect(() => labelsFor(input)).toThrow(/unsafe label value/);
            return;
          }
          const labels = labelsFor(input);
          for (const v of Object.values(labels)) expect(v === "true" || SAFE.test(v)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
