// The worker pool under the run loop and re-judging: lazy, bounded, and a stop makes no further item.
import { describe, expect, it } from "vitest";
import { drain } from "../src/runner/pool.js";

function* counted(n: number, made: { n: number }) {
  for (let i = 0; i < n; i++) {
    made.n++;
    yield i;
  }
}

describe("drain", () => {
  it("runs every item, at most `workers` at a time, making each only when a worker is free", async () => {
    const made = { n: 0 };
    let inFlight = 0, peak = 0, maxAhead = 0;
    const done: number[] = [];
    const stopped = await drain(counted(20, made), 3, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      maxAhead = Math.max(maxAhead, made.n - done.length);
      await new Promise((r) => setTimeout(r, 1));
      done.push(i);
      inFlight--;
    });
    expect(stopped).toBe(false);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
    expect(maxAhead).toBeLessThanOrEqual(3);
  });

  it("once a stop is asked for, makes no further item and says it stopped", async () => {
    const made = { n: 0 };
    let ran = 0;
    const stopped = await drain(counted(1000, made), 4, async () => {
      ran++;
      await new Promise((r) => setTimeout(r, 1));
    }, () => ran >= 10);
    expect(stopped).toBe(true);
    expect(ran).toBeLessThan(10 + 4);
    expect(made.n).toBeLessThan(10 + 2 * 4);
  });
});
