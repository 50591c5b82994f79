import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, nextImageCheckDelay } from "../src/steps/image-wait.ts";

describe("waiting for an image not pushed yet", () => {
  const mid = () => 0.5; // no jitter

  it("looks again soon at first, then backs off up to 30 s", () => {
    expect(nextImageCheckDelay(0, 900_000, mid)).toBe(1000);
    expect(nextImageCheckDelay(8000, 900_000, mid)).toBe(2000);
    expect(nextImageCheckDelay(60_000, 900_000, mid)).toBe(15_000);
    expect(nextImageCheckDelay(600_000, 900_000, mid)).toBe(30_000);
  });

  it("never sleeps past the deadline, and stops once it has passed", () => {
    expect(nextImageCheckDelay(7500, 8000, mid)).toBe(500);
    expect(nextImageCheckDelay(8000, 8000, mid)).toBeNull();
    expect(nextImageCheckDelay(9000, 8000, mid)).toBeNull();
  });

  it("stays within bounds whatever the jitter", () => {
    fc.assert(
      fc.property(
        fc.nat(2_000_000),
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (waited, limit, r) => {
          const delay = nextImageCheckDelay(waited, limit, () => r);
          if (waited >= limit) return delay === null;
          return (
            delay !== null && delay >= 100 && delay <= 36_000 && (delay <= limit - waited || delay === 100)
          );
        },
      ),
    );
  });

  it("writes durations for humans", () => {
    expect(formatDuration(8000)).toBe("8s");
    expect(formatDuration(900_000)).toBe("15m");
    expect(formatDuration(90_500)).toBe("1m31s");
  });
});
