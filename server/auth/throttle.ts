/**
 * Slows down password guessing: after `limit` failed sign-ins for one account name within
 * `windowMs`, further attempts for that name are refused, without checking the password,
 * until the oldest failure leaves the window. A successful sign-in clears the name's
 * failures. Kept in memory: a restart forgets it, which costs a guesser a restart of the
 * dashboard, not the researcher anything.
 *
 * Checking a password takes a while (scrypt, off the event loop), so the check and the
 * count must not be two steps: many guesses sent at once would all pass the check before
 * the first failure is counted. `reserve` counts an attempt as a failure before the
 * password is checked, atomically with the check; the attempt then either stays counted
 * (`failed`), clears the name (`succeeded`), or is taken back (`release`, when the check
 * itself could not run).
 */
export class SignInThrottle {
  private readonly attempts = new Map<string, Attempt[]>();

  constructor(
    readonly limit = 10,
    readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds until `name` may try again (0: now). Attempts still being checked count. */
  waitMs(name: string, now = Date.now()): number {
    const recent = this.recent(name, now);
    return recent.length < this.limit ? 0 : recent[recent.length - this.limit].time + this.windowMs - now;
  }

  /**
   * Counts an attempt for `name` before its password is checked: `{ waitMs }` when the name
   * is refused (nothing counted), else the attempt, to settle once the password is checked.
   */
  reserve(name: string, now = Date.now()): { waitMs: number } | SignInAttempt {
    const waitMs = this.waitMs(name, now);
    if (waitMs > 0) return { waitMs };
    const attempt: Attempt = { time: now, pending: true };
    const k = key(name);
    this.attempts.set(k, [...this.recent(name, now), attempt]);
    if (this.attempts.size > 10_000) for (const other of [...this.attempts.keys()]) this.recent(other, now); // drop expired names
    return {
      waitMs: 0,
      failed: () => {
        attempt.pending = false;
      },
      succeeded: () => {
        // Clears the name's failures; guesses still being checked stay counted.
        const left = (this.attempts.get(k) ?? []).filter((a) => a.pending && a !== attempt);
        if (left.length) this.attempts.set(k, left);
        else this.attempts.delete(k);
      },
      release: () => {
        const left = (this.attempts.get(k) ?? []).filter((a) => a !== attempt);
        if (left.length) this.attempts.set(k, left);
        else this.attempts.delete(k);
      },
    };
  }

  /** Records a failure that was not reserved (e.g. from a script). */
  failed(name: string, now = Date.now()): void {
    const attempt = this.reserve(name, now);
    if ("failed" in attempt) attempt.failed();
    else this.attempts.set(key(name), [...this.recent(name, now), { time: now, pending: false }].slice(-this.limit));
  }

  succeeded(name: string): void {
    this.attempts.delete(key(name));
  }

  private recent(name: string, now: number): Attempt[] {
    const k = key(name);
    const times = (this.attempts.get(k) ?? []).filter((a) => now - a.time < this.windowMs);
    if (times.length === 0) this.attempts.delete(k);
    return times;
  }
}

interface Attempt {
  time: number;
  /** Reserved, password not yet checked. */
  pending: boolean;
}

/** One counted sign-in attempt; settle it exactly once. */
export interface SignInAttempt {
  waitMs: 0;
  /** Wrong name or password: the attempt stays counted. */
  failed(): void;
  /** Right password: the name's failures are forgotten. */
  succeeded(): void;
  /** The password could not be checked (an error): the attempt does not count. */
  release(): void;
}

const key = (name: string) => name.trim().toLowerCase();
