"use client";
/**
 * The comparison the paper is about: a metric (verified accuracy by default) against the
 * remaining weights, one line per method, on a log axis that runs from the dense network
 * (left) to the sparsest (right), with a band of one standard deviation across seeds.
 */
import { memo, type ReactNode } from "react";
import { CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, useXAxisScale, useYAxisScale, XAxis, YAxis } from "recharts";
import type { Series, SeriesPoint, Stat } from "@/lib/compare/series";
import { METRICS } from "./metrics";
import type { CompareMetric } from "@/lib/viewState";
import { ChartFrame, Legend } from "@/components/charts/ChartFrame";
import { AXIS_STYLE, fitDomain, mergeByX, ratioAxis, TooltipBox, tooltipPoints } from "./chartParts";
import { pct, ratio } from "@/lib/format";

export { METRICS };

interface Point {
  x: number;
  y: number;
  band: [number, number];
  std: number;
  n: number;
  round: number;
  series: string;
  color: string;
}

export function chartPoints(series: Series, metric: CompareMetric): Point[] {
  const pick = METRICS[metric].pick;
  return series.points.flatMap((p) => {
    const s = p.n > 0 ? pick(p) : null;
    if (!s) return [];
    return [{ x: Math.max(1e-5, p.remainingRatio.mean), y: s.mean, band: [Math.max(0, s.mean - s.std), Math.min(1, s.mean + s.std)] as [number, number], std: s.std, n: s.n, round: p.round, series: series.label, color: series.color }];
  });
}

/**
 * The ±1 std bands of every series in one layer, drawn with the chart's own scales: one
 * Recharts <Area> per series (each a store subscriber) doubled the time to draw ten methods.
 */
function Bands({ lines }: { lines: { s: Series; points: Point[] }[] }) {
  const x = useXAxisScale();
  const y = useYAxisScale();
  if (!x || !y) return null;
  return (
    <g className="bands">
      {lines.map(({ s, points }) => {
        if (points.length < 2) return null;
        const upper = points.map((p) => `${x(p.x)},${y(p.band[1])}`);
        const lower = points.map((p) => `${x(p.x)},${y(p.band[0])}`).reverse();
        return <polygon key={s.key} points={[...upper, ...lower].join(" ")} fill={s.color} fillOpacity={0.14} stroke="none" />;
      })}
    </g>
  );
}

export const AccuracyChart = memo(function AccuracyChart({ series, metric, hidden, onToggle, controls, waiting }: {
  series: Series[];
  /** Runs are still going: an empty chart is waiting for rounds, not missing data. */
  waiting?: boolean;
  metric: CompareMetric;
  hidden: string[];
  onToggle?: (label: string) => void;
  controls?: ReactNode;
}) {
  const visible = series.filter((s) => !hidden.includes(s.label));
  const lines = visible.map((s) => ({ s, points: chartPoints(s, metric) }));
  const all = lines.flatMap((l) => l.points);
  const axis = ratioAxis(all.map((p) => p.x));
  const y = fitDomain(all.flatMap((p) => p.band));
  const data = mergeByX(lines.map((l) => l.points), ["y"]);
  const bands = all.some((p) => p.n > 1); // one seed each: nothing to shade
  // A dot per round helps read a few curves; past ~60 points they are clutter (and slow to draw).
  const dots = all.length <= 60;
  const title = `${METRICS[metric].title} vs remaining weights`;
  return (
    <ChartFrame
      boxed
      title={title}
      units={`y: ${METRICS[metric].units}; x: remaining weights, log scale`}
      legend={visible.map((s) => ({ label: s.label, color: s.color }))}
      legendNode={<Legend entries={series.map((s) => ({ label: s.label, color: s.color }))} hidden={hidden} onToggle={onToggle} line />}
      testId="accuracy-chart"
      empty={all.length === 0}
      className="wide"
      controls={controls}
      data={{ series: visible.map((s) => s.label).join("|"), points: all.length, metric }}
      caption="Each point is a pruning round (round 0 is the dense network); the shaded band is ±1 standard deviation across seeds."
    >
      {all.length === 0 ? (
        <div className="empty">
          {waiting ? "Waiting for the first round to finish: the curves grow as rounds finish." : `No finished round has a ${METRICS[metric].short} figure${metric === "verified" ? " (were these runs verified?)" : ""}.`}
        </div>
      ) : (
        <ResponsiveContainer width="100%" height={340}>
          <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 22, left: 8 }}>
            <CartesianGrid stroke="#e7ebf0" />
            <XAxis type="number" dataKey="x" scale="log" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.tickFormatter} reversed allowDataOverflow tick={AXIS_STYLE}
              label={{ value: "remaining weights (log scale) →  sparser", position: "insideBottom", offset: -14, style: AXIS_STYLE }} />
            <YAxis type="number" domain={y.domain} ticks={y.ticks} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} tick={AXIS_STYLE} width={48}
              label={{ value: `${METRICS[metric].short} %`, angle: -90, position: "insideLeft", offset: 4, style: AXIS_STYLE }} />
            <Tooltip
              isAnimationActive={false}
              content={({ active, payload }) => {
                const rows = tooltipPoints<Point>(payload, "y");
                if (!active || !rows.length) return null;
                return (
                  <TooltipBox
                    head={`remaining ${ratio(rows[0].x)} · round ${rows[0].round}`}
                    rows={rows.map((p) => ({ color: p.color, label: p.series, value: `${pct(p.y)}${p.n > 1 ? ` ± ${(p.std * 100).toFixed(1)}` : ""}${p.n > 1 ? ` (${p.n} seeds)` : ""}` }))}
                  />
                );
              }}
            />
            {bands && <Bands lines={lines} />}
            {lines.map(({ s }, i) => (
              <Line key={`line-${s.key}`} dataKey={`y_${i}`} name={s.label} type="linear" connectNulls stroke={s.color} strokeWidth={2} dot={dots ? { r: 3, fill: s.color } : false} activeDot={{ r: 4 }} isAnimationActive={false} />
            ))}
          </ComposedChart>
        </ResponsiveContainer>
      )}
    </ChartFrame>
  );
});
