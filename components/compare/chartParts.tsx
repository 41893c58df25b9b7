"use client";
/** Pieces the compare charts share: the remaining-ratio axis and a readable tooltip. */
import type { ReactNode } from "react";
import { ratioTick, ratioTicks } from "@/lib/format";

/**
 * Domain and ticks of a reversed log axis of remaining ratios: dense on the left, sparse
 * on the right. A few distinct ratios are ticked themselves; many get 100%, 50%, 20%, ...
 */
export function ratioAxis(xs: number[]) {
  const min = Math.max(1e-5, Math.min(1, ...xs.filter((x) => x > 0)));
  const distinct = [...new Set(xs.map((x) => Number(x.toPrecision(3))))].sort((a, b) => b - a);
  const ticks = distinct.length <= 6 ? distinct : ratioTicks(min * 0.5).filter((t) => t >= min * 0.5);
  // Down to the first round tick below the sparsest point, so that every point sits between ticks.
  const lowest = Math.min(min * 0.8, ...ticks);
  return { domain: [lowest * 0.95, 1.12] as [number, number], ticks: ticks.filter((t) => t >= lowest), tickFormatter: ratioTick };
}

/** A y domain of fractions that fits the values with a margin, in [0, 1], and round ticks on it. */
export function fitDomain(values: number[]): { domain: [number, number]; ticks: number[] } {
  const finite = values.filter(Number.isFinite);
  const min = finite.length ? Math.min(...finite) : 0;
  const max = finite.length ? Math.max(...finite) : 1;
  const span = Math.max(max - min, 0.05);
  const step = [0.01, 0.02, 0.05, 0.1, 0.2].find((s) => span / s <= 5) ?? 0.2;
  const lo = Math.max(0, Math.floor((min - Math.max(step / 2, 0.05)) / step) * step);
  const hi = Math.min(1, Math.ceil((max + step / 2) / step) * step);
  const ticks: number[] = [];
  for (let t = lo; t <= hi + 1e-9; t += step) ticks.push(Number(t.toFixed(4)));
  return { domain: [Number(lo.toFixed(4)), Number(hi.toFixed(4))], ticks };
}

export interface TooltipRow {
  color: string;
  label: string;
  value: ReactNode;
}

export function TooltipBox({ head, rows }: { head: ReactNode; rows: TooltipRow[] }) {
  return (
    <div className="chart-tooltip">
      <div className="head">{head}</div>
      {rows.map((r, i) => (
        <div className="line" key={`${r.label}-${i}`}>
          <span className="swatch" style={{ background: r.color, width: 10, height: 10, borderRadius: 2, display: "inline-block" }} />
          <span>{r.label}</span>
          <strong style={{ marginLeft: "auto", paddingLeft: 8 }}>{r.value}</strong>
        </div>
      ))}
    </div>
  );
}

export const AXIS_STYLE = { fontSize: 12, fill: "#5f6b7a" };

/**
 * Several series' points as one data array, one row per x, with each series' fields
 * suffixed by its index (`y_0`, `y_1`, ...). Recharts draws many lines from one shared
 * array much faster than from one array per line.
 */
export function mergeByX<P extends { x: number }>(lines: P[][], fields: (keyof P & string)[]): Record<string, unknown>[] {
  const rows = new Map<string, Record<string, unknown>>();
  lines.forEach((points, i) => {
    for (const p of points) {
      const key = p.x.toPrecision(10);
      const row = rows.get(key) ?? { x: p.x };
      for (const f of fields) row[`${f}_${i}`] = p[f];
      row[`p_${i}`] = p;
      rows.set(key, row);
    }
  });
  return [...rows.values()].sort((a, b) => (a.x as number) - (b.x as number));
}

/** The points behind a tooltip's entries: each entry's dataKey ends in its series' index. */
export function tooltipPoints<P>(payload: unknown, field: string): P[] {
  const entries = (payload ?? []) as { dataKey?: unknown; payload: Record<string, unknown> }[];
  return entries
    .filter((e) => typeof e.dataKey === "string" && e.dataKey.startsWith(`${field}_`))
    .map((e) => e.payload[`p_${(e.dataKey as string).slice(field.length + 1)}`] as P)
    .filter(Boolean);
}
