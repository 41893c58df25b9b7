/**
 * How numbers, sizes, times and messages are written on every view (run page, compare,
 * overview, share, launch, upload, audit), and in the server's messages that quote them.
 * An en dash stands for a missing value.
 */

/** A fraction as a percentage: 0.1234 -> "12.3%". */
export const pct = (x: number | null | undefined, digits = 1) => (x == null || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(digits)}%`);

/** A change of a fraction in percentage points, signed: "+8.2 pp". */
export const pp = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "" : `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)} pp`);

/** A remaining ratio as the paper writes it: 0.134. */
export const ratio = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "–" : x >= 0.995 ? "1" : x.toFixed(x < 0.01 ? 4 : 3));

/** A plain number with fixed digits: the run page's tables. */
export const num = (x: number | null | undefined, digits = 3) => (x == null ? "–" : x.toFixed(digits));

/** Seconds with two decimals: "0.25 s" (the run page's tables). */
export const secs = (x: number | null | undefined) => (x == null ? "–" : `${x.toFixed(2)} s`);

/** Seconds at a readable precision: "3.2 ms", "0.25 s", "42 s" (the compare views). */
export const seconds = (x: number | null | undefined) =>
  x == null || !Number.isFinite(x) ? "–" : x < 0.01 ? `${(x * 1000).toFixed(1)} ms` : x < 10 ? `${x.toFixed(2)} s` : `${x.toFixed(0)} s`;

export const signedSeconds = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "" : `${x >= 0 ? "+" : "−"}${seconds(Math.abs(x))}`);

/** "45 s", "12 min", "3 h 05 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** A file size: "195.3 KiB", "50.0 MiB" (the upload form and the server's upload messages). */
export const formatSize = (bytes: number) => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);

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
