import { describe, expect, it } from "vitest";
import { SignInThrottle } from "./throttle";

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
});
