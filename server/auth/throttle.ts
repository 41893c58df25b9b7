/**
 * Slows down password guessing: after `limit` failed sign-ins for one account name within
 * `windowMs`, further attempts for that name are refused, without checking the password,
 * until the oldest failure leaves the window. A successful sign-in clears the name's
 * failures. Kept in memory: a restart forgets it, which costs a guesser a restart of the
 * dashboard, not the researcher anything.
 */
export class SignInThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly limit = 10,
    readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds until `name` may try again (0: now). */
  waitMs(name: string, now = Date.now()): number {
    const recent = this.recent(name, now);
    return recent.length < this.limit ? 0 : recent[recent.length - this.limit] + this.windowMs - now;
  }

  failed(name: string, now = Date.now()): void {
    const recent = this.recent(name, now);
    recent.push(now);
    this.failures.set(key(name), recent.slice(-this.limit));
    if (this.failures.size > 10_000) for (const k of [...this.failures.keys()]) this.recent(k, now); // drop expired names
  }

  succeeded(name: string): void {
    this.failures.delete(key(name));
  }

  private recent(name: string, now: number): number[] {
    const times = (this.failures.get(key(name)) ?? []).filter((t) => now - t < this.windowMs);
    if (times.length === 0) this.failures.delete(key(name));
    return times;
  }
}

const key = (name: string) => name.trim().toLowerCase();
