import { describe, expect, it } from "vitest";
import { launchWarnings } from "./launchWarnings";

const codes = (w: { code: string }[]) => w.map((x) => x.code);

describe("launch warnings", () => {
  it("warns of few samples with the interval's actual width, and of a single seed", () => {
    const w = launchWarnings({ config: { verification: { mode: "bab", samples: 10 } }, seeds: 1, methods: 2 });
    expect(codes(w)).toEqual(["few-samples", "one-seed"]);
    // Wilson 5/10: [0.2366, 0.7634] -> ±26 points.
    expect(w[0].text).toContain("±26 points");
    expect(w[1].text).toMatch(/One seed/);
  });

  it("says nothing for 100+ samples and several seeds", () => {
    expect(launchWarnings({ config: { verification: { samples: 100 } }, seeds: 3, methods: 2 })).toEqual([]);
    expect(launchWarnings({ config: {}, seeds: 2, methods: 1 })).toEqual([]); // defaults: bab, 200 samples
  });

  it("flags a complete verifier with 0 samples, and verification switched off", () => {
    expect(codes(launchWarnings({ config: { verification: { mode: "bab", samples: 0 } }, seeds: 2, methods: 1 }))).toEqual(["no-samples"]);
    expect(launchWarnings({ config: { verification: { mode: "bab", samples: 0 } }, seeds: 2, methods: 1 })[0].text).toMatch(/complete verifier/);
    expect(codes(launchWarnings({ config: { verification: { mode: "none", samples: 0 } }, seeds: 1, methods: 1 }))).toEqual(["no-verification", "one-seed"]);
    expect(codes(launchWarnings({ config: null, seeds: 0, methods: 1 }))).toEqual(["one-seed"]);
  });
});
