/**
 * A fixed number of slots for work that must not grow with the number of requests: each
 * bundle download starts an engine process (`export`), so at most `size` run at once and
 * the next request is told to come back instead of starting another.
 */
export class Slots {
  private used = 0;

  constructor(readonly size: number) {}

  /** A release function when a slot is free (call it once the work ends), else null. */
  tryTake(): (() => void) | null {
    if (this.used >= this.size) return null;
    this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
    };
  }

  get inUse(): number {
    return this.used;
  }
}
