import { describe, expect, it } from "vitest";
import { SignInThrottle, type SignInAttempt } from "./throttle";

describe("SignInThrottle", () => {
  it("refuses a name after `limit` failures in the window, until the oldest leaves it", () => {
    const t = new SignInThrottle(3, 1000);
    t.failed("Ada", 0);
    t.failed("ada", 100);
    expect(t.waitMs("ada", 200)).toBe(0);
    t.failed("ADA ", 200);
    expect(t.waitMs("ada", 300)).toBe(700); // the failure at 0 leaves the window at 1000
    expect(t.waitMs("grace", 300)).toBe(0); // other names are not affected
    expect(t.waitMs("ada", 1000)).toBe(0);
    t.failed("ada", 1000);
    expect(t.waitMs("ada", 1050)).toBe(50); // now 100, 200 and 1000 are in the window
  });

  it("forgets a name's failures when it signs in", () => {
    const t = new SignInThrottle(2, 1000);
    t.failed("ada", 0);
    t.succeeded("ada");
    t.failed("ada", 10);
    expect(t.waitMs("ada", 20)).toBe(0);
  });

  it("counts an attempt when it is reserved, before its password is checked", () => {
    const t = new SignInThrottle(3, 1000);
    const pending = [t.reserve("ada", 0), t.reserve("ada", 1), t.reserve("ada", 2)];
    expect(pending.every((a) => "failed" in a)).toBe(true);
    expect(t.reserve("ada", 3)).toEqual({ waitMs: 997 }); // three checks in flight fill the limit
    // An attempt whose check could not run is taken back; a failed one stays.
    (pending[0] as SignInAttempt).release();
    (pending[1] as SignInAttempt).failed();
    expect(t.waitMs("ada", 4)).toBe(0);
    // A success forgets the failures but not guesses still being checked.
    const ok = t.reserve("ada", 5) as SignInAttempt;
    ok.succeeded();
    expect(t.waitMs("ada", 6)).toBe(0);
    t.reserve("ada", 7);
    t.reserve("ada", 8);
    expect(t.reserve("ada", 9)).toEqual({ waitMs: 993 }); // pending[2] (time 2) and those two
  });
});
