/** Number and message formats shared by the compare, overview, share, launch and audit views. */

export const pct = (x: number | null | undefined, digits = 1) => (x == null || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(digits)}%`);

/** A change of a fraction in percentage points, signed: "+8.2 pp". */
export const pp = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "" : `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)} pp`);

/** A remaining ratio as the paper writes it: 0.134. */
export const ratio = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "–" : x >= 0.995 ? "1" : x.toFixed(x < 0.01 ? 4 : 3));

export const seconds = (x: number | null | undefined) =>
  x == null || !Number.isFinite(x) ? "–" : x < 0.01 ? `${(x * 1000).toFixed(1)} ms` : x < 10 ? `${x.toFixed(2)} s` : `${x.toFixed(0)} s`;

export const signedSeconds = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "" : `${x >= 0 ? "+" : "−"}${seconds(Math.abs(x))}`);

/** Axis ticks for a remaining ratio on a log scale: 100%, 50%, 20%, 10%, 5%, ... */
export function ratioTicks(min: number): number[] {
  const ticks: number[] = [];
  for (let decade = 1; decade >= min / 10 && decade > 1e-6; decade /= 10) {
    for (const m of [1, 0.5, 0.2]) if (decade * m >= min * 0.999 && decade * m <= 1) ticks.push(Number((decade * m).toPrecision(3)));
  }
  return ticks;
}

export const ratioTick = (x: number) => (x >= 0.01 ? `${Number((x * 100).toPrecision(3))}%` : `${(x * 100).toPrecision(1)}%`);

/** A message as a sentence: first letter upper-case, one full stop at the end ("not found" -> "Not found."). */
export const sentence = (text: string) => {
  const t = text.trim();
  return t ? `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? "" : "."}` : t;
};

export function timeAgo(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
