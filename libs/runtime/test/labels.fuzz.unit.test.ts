import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { labelsFor } from "../src/index.ts";

/**
 * The rule for a label value, written from its statement rather than from the code: 1 to 64
 * characters, each a lowercase ASCII letter, a digit, '_' or '-'.
 */
function isSafeValue(value: string): boolean {
  if (value.length < 1 || value.length > 64) return false;
  for (const char of value) {
    const lower = char >= "a" && char <= "z";
    const digit = char >= "0" && char <= "9";
    if (!lower && !digit && char !== "_" && char !== "-") return false;
  }
  return true;
}

// Label values come from ids edgeplane generated; anything else is refused before it reaches Docker.
describe("labelsFor under hostile input", () => {
  it("the oracle itself tells safe values from unsafe ones", () => {
    for (const ok of ["a", "env_0a1b", "t-hard-1", "x".repeat(64), "-", "_"])
      expect(isSafeValue(ok)).toBe(true);
    for (const bad of ["", "x".repeat(65), "A", "a b", "a=b", "a\nb", "é", "a.b", "$(id)", "a/b", "a:b"])
      expect(isSafeValue(bad)).toBe(false);
  });

  it("labels only safe values, exactly as given, and refuses everything else", () => {
    const value = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.string({ unit: "grapheme", maxLength: 70 }),
      fc.stringMatching(/^[a-z0-9_-]{1,64}$/),
      fc.constantFrom("a=b", "a\nb", "x y", "$(id)", "A", "x".repeat(64), "x".repeat(65), ""),
    );
    fc.assert(
      fc.property(
        value,
        value,
        value,
        fc.option(value),
        fc.nat({ max: 1_000_000 }),
        (instance, projectId, environmentId, deploymentId, generation) => {
          const input = { instance, projectId, environmentId, generation, deploymentId };
          const safe = [
            instance,
            projectId,
            environmentId,
            ...(deploymentId === null ? [] : [deploymentId]),
          ].every(isSafeValue);
          if (!safe) {
            expect(() => labelsFor(input)).toThrow(/unsafe label value/);
            return;
          }
          const expected: Record<string, string> = {
            "edgeplane.managed": "true",
            "edgeplane.instance": instance,
            "edgeplane.project": projectId,
            "edgeplane.environment": environmentId,
            "edgeplane.generation": String(generation),
          };
          if (deploymentId !== null) expected["edgeplane.deployment"] = deploymentId;
          expect(labelsFor(input)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
