"use client";
/**
 * The comparison the paper is about: a metric (verified accuracy by default) against the
 * remaining fraction (of the pruned layers, of all weights or of channels: the reader
 * picks, lib/sparsity), one line per method, on a log axis that runs from the dense
 * network (left) to the sparsest (right), with a 95% interval as an error bar on every
 * point (of the mean across seeds; Wilson for a single seed).
 */
import { memo, type ReactNode } from "react";
import { CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, useXAxisScale, useYAxisScale, XAxis, YAxis } from "recharts";
import type { Series, SeriesPoint, Stat } from "@/lib/compare/series";
import { METRICS } from "./metrics";
import type { CompareMetric } from "@/lib/viewState";
import { ChartFrame, Legend } from "@/components/charts/ChartFrame";
import { AXIS_STYLE, fitDomain, mergeByX, ratioAxis, TooltipBox, tooltipPoints } from "./chartParts";
import { pct } from "@/lib/format";
import { intervalText } from "@/lib/accuracy";
import { remainingText, SPARSITY_BASES, SPARSITY_LABELS, type SparsityBasis } from "@/lib/sparsity";

export { METRICS };

interface Point {
  x: number;
  y: number;
  band: [number, number] | null;
  std: number;
  n: number;
  round: number;
  series: string;
  color: string;
}

/** The x of a point on a basis: null when the round did not record it. */
export function remainingFor(p: SeriesPoint, basis: SparsityBasis): number | null {
  const s = basis === "scope" ? p.remainingRatio : basis === "all" ? p.remainingAll : p.remainingChannels;
  return s && Number.isFinite(s.mean) ? s.mean : null;
}

export function chartPoints(series: Series, metric: CompareMetric, basis: SparsityBasis = "scope"): Point[] {
  const pick = METRICS[metric].pick;
  return series.points.flatMap((p) => {
    const s = p.n > 0 ? pick(p) : null;
    const x = remainingFor(p, basis);
    if (!s || x == null) return [];
    const band = s.ci ? ([Math.max(0, s.ci.lo), Math.min(1, s.ci.hi)] as [number, number]) : null;
    return [{ x: Math.max(1e-5, x), y: s.mean, band, std: s.std, n: s.n, round: p.round, series: series.label, color: series.color }];
  });
}

/**
 * The 95% intervals of every series as error bars, in one layer
 * drawn with the chart's own scales: one Recharts <Area> per series (each a store
 * subscriber) doubled the time to draw ten methods.
 */
function ErrorBars({ lines }: { lines: { s: Series; points: Point[] }[] }) {
  const x = useXAxisScale();
  const y = useYAxisScale();
  if (!x || !y) return null;
  return (
    <g className="error-bars" data-testid="error-bars">
      {lines.map(({ s, points }, i) => {
        const withBand = points.filter((p) => p.band);
        // Neighbouring series' bars side by side, not on top of each other.
        const nudge = (i - (lines.length - 1) / 2) * 3;
        return (
          <g key={s.key}>
            {withBand.map((p) => {
              const cx = (x(p.x) ?? 0) + nudge;
              const [lo, hi] = [y(p.band![0]) ?? 0, y(p.band![1]) ?? 0];
              return (
                <g key={p.round} stroke={s.color} strokeWidth={1.5} className="error-bar">
                  <line x1={cx} x2={cx} y1={lo} y2={hi} />
                  <line x1={cx - 4} x2={cx + 4} y1={lo} y2={lo} />
                  <line x1={cx - 4} x2={cx + 4} y1={hi} y2={hi} />
                </g>
              );
            })}
          </g>
        );
      })}
    </g>
  );
}

/** The x-axis switch: what the remaining fraction counts. */
export function BasisSelect({ value, onChange, available }: { value: SparsityBasis; onChange?: (b: SparsityBasis) => void; available: SparsityBasis[] }) {
  return (
    <label className="count">
      x: remaining{" "}
      <select className="inline-select" value={value} disabled={!onChange} onChange={(e) => onChange?.(e.target.value as SparsityBasis)} aria-label="x axis: remaining fraction of" data-testid="sparsity-basis">
        {SPARSITY_BASES.map((b) => (
          <option key={b} value={b} disabled={!available.includes(b)}>{SPARSITY_LABELS[b].short}{available.includes(b) ? "" : " (not recorded)"}</option>
        ))}
      </select>
    </label>
  );
}

export const AccuracyChart = memo(function AccuracyChart({ series, metric, hidden, onToggle, controls, waiting, basis = "scope" }: {
  series: Series[];
  /** Runs are still going: an empty chart is waiting for rounds, not missing data. */
  waiting?: boolean;
  metric: CompareMetric;
  hidden: string[];
  onToggle?: (label: string) => void;
  controls?: ReactNode;
  /** What the x axis's remaining fraction counts (lib/sparsity). */
  basis?: SparsityBasis;
}) {
  const visible = series.filter((s) => !hidden.includes(s.label));
  const lines = visible.map((s) => ({ s, points: chartPoints(s, metric, basis) }));
  const all = lines.flatMap((l) => l.points);
  const missing = visible.reduce((a, s) => a + s.points.filter((p) => p.n > 0 && METRICS[metric].pick(p) && remainingFor(p, basis) == null).length, 0);
  const axis = ratioAxis(all.map((p) => p.x));
  const y = fitDomain(all.flatMap((p) => p.band ?? [p.y]));
  const data = mergeByX(lines.map((l) => l.points), ["y"]);
  const bars = all.some((p) => p.band);
  // A dot per round helps read a few curves; past ~60 points they are clutter (and slow to draw).
  const dots = all.length <= 60;
  const label = SPARSITY_LABELS[basis];
  const title = `${METRICS[metric].title} vs remaining ${basis === "channels" ? "channels" : "weights"} (${label.short})`;
  return (
    <ChartFrame
      boxed
      title={title}
      units={`y: ${METRICS[metric].units}; x: ${label.axis}, log scale`}
      legend={visible.map((s) => ({ label: s.label, color: s.color }))}
      legendNode={<Legend entries={series.map((s) => ({ label: s.label, color: s.color }))} hidden={hidden} onToggle={onToggle} line />}
      testId="accuracy-chart"
      empty={all.length === 0}
      className="wide"
      controls={controls}
      data={{ series: visible.map((s) => s.label).join("|"), points: all.length, metric, basis, bars: all.filter((p) => p.band).length }}
      caption={<>Each point is a pruning round (round 0 is the dense network); its error bar is the 95% interval: for one seed, Wilson of the run&apos;s count; for several, the wider of the t-interval of the mean across seeds and the Wilson interval of the mean count (the seeds verify the same images). x: {label.help}{missing ? ` ${missing} round(s) did not record this measure (older engine) and are left out.` : ""}</>}
    >
      {all.length === 0 ? (
        <div className="empty">
          {waiting ? "Waiting for the first round to finish: the curves grow as rounds finish." : missing ? `These runs did not record the remaining fraction ${label.short}: choose another x axis.` : `No finished round has a ${METRICS[metric].short} figure${metric === "verified" ? " (were these runs verified?)" : ""}.`}
        </div>
      ) : (
        <ResponsiveContainer width="100%" height={340}>
          <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 22, left: 8 }}>
            <CartesianGrid stroke="#e7ebf0" />
            <XAxis type="number" dataKey="x" scale="log" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.tickFormatter} reversed allowDataOverflow tick={AXIS_STYLE}
              label={{ value: `${label.axis} (log scale) →  sparser`, position: "insideBottom", offset: -14, style: AXIS_STYLE }} />
            <YAxis type="number" domain={y.domain} ticks={y.ticks} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} tick={AXIS_STYLE} width={48}
              label={{ value: `${METRICS[metric].short} %`, angle: -90, position: "insideLeft", offset: 4, style: AXIS_STYLE }} />
            <Tooltip
              isAnimationActive={false}
              content={({ active, payload }) => {
                const rows = tooltipPoints<Point>(payload, "y");
                if (!active || !rows.length) return null;
                return (
                  <TooltipBox
                    head={`${remainingText(rows[0].x)} ${label.short} · round ${rows[0].round}`}
                    rows={rows.map((p) => ({ color: p.color, label: p.series, value: `${pct(p.y)}${p.band ? ` 95% CI ${intervalText({ lo: p.band[0], hi: p.band[1] })}` : ""}${p.n > 1 ? ` (std ${(p.std * 100).toFixed(1)}, ${p.n} seeds)` : ""}` }))}
                  />
                );
              }}
            />
            {bars && <ErrorBars lines={lines} />}
            {lines.map(({ s }, i) => (
              <Line key={`line-${s.key}`} dataKey={`y_${i}`} name={s.label} type="linear" connectNulls stroke={s.color} strokeWidth={2} dot={dots ? { r: 3, fill: s.color } : false} activeDot={{ r: 4 }} isAnimationActive={false} />
            ))}
          </ComposedChart>
        </ResponsiveContainer>
      )}
    </ChartFrame>
  );
});
