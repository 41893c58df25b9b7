"use client";
/**
 * What became of the verification samples in every round, one small chart per method:
 * verified (proven robust), falsified (an attack found a counterexample), unknown
 * (timed out), misclassified (wrong before any attack). Means across seeds.
 *
 * Plain SVG rather than Recharts: ten or more small multiples of stacked bars are
 * thousands of shapes, and one Recharts chart each (its own store, axes, resize
 * observer) made the compare page miss its one-second budget. Each bar carries a
 * <title>, so hovering shows its figures.
 */
import { memo } from "react";
import { type Outcome, OUTCOMES } from "@/lib/compare/api";
import type { Series } from "@/lib/compare/series";
import { ChartFrame } from "@/components/charts/ChartFrame";
import { pct, ratio } from "@/lib/format";

export const OUTCOME_COLORS: Record<Outcome, string> = {
  verified: "#2e9e5b",
  falsified: "#d2453b",
  unknown: "#e3a21a",
  misclassified: "#8a94a3",
};

const W = 300;
const H = 150;
const LEFT = 36;
const RIGHT = 6;
const TOP = 6;
const BOTTOM = 22;

function Multiple({ series }: { series: Series }) {
  const rows = series.points.filter((p) => p.outcomes);
  const band = (W - LEFT - RIGHT) / Math.max(1, rows.length);
  const y = (v: number) => TOP + (1 - v) * (H - TOP - BOTTOM);
  const every = Math.max(1, Math.ceil(rows.length / 9));
  return (
    <svg className="chart-svg" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${series.label}: verification outcomes per round`} fontSize={11}>
      {[0, 0.5, 1].map((t) => (
        <g key={t}>
          <line x1={LEFT} x2={W - RIGHT} y1={y(t)} y2={y(t)} stroke="#eef1f5" />
          <text x={LEFT - 4} y={y(t) + 4} textAnchor="end" fill="#5f6b7a">{t * 100}%</text>
        </g>
      ))}
      {rows.map((p, i) => {
        let acc = 0;
        const x = LEFT + i * band + band * 0.08;
        const width = Math.max(1, band * 0.84);
        const title = `${series.label} · round ${p.round} · remaining ${ratio(p.remainingRatio.mean)}${p.partial ? " · in progress" : ""}\n` +
          OUTCOMES.map((o) => `${o}: ${pct(p.outcomes![o])}`).join("\n");
        return (
          <g key={p.round} className="outcome-bar" data-round={p.round}>
            <title>{title}</title>
            {OUTCOMES.map((o) => {
              const v = p.outcomes![o];
              const top = y(acc + v);
              const h = y(acc) - top;
              acc += v;
              return v > 0 ? <rect key={o} x={x} y={top} width={width} height={h} fill={OUTCOME_COLORS[o]} opacity={p.partial ? 0.55 : 1} /> : null;
            })}
            {i % every === 0 || i === rows.length - 1 ? (
              <text x={x + width / 2} y={H - BOTTOM + 14} textAnchor="middle" fill="#5f6b7a">{p.round}</text>
            ) : null}
          </g>
        );
      })}
      <line x1={LEFT} x2={W - RIGHT} y1={y(0)} y2={y(0)} stroke="#8a94a3" />
    </svg>
  );
}

export const OutcomeBars = memo(function OutcomeBars({ series, hidden }: { series: Series[]; hidden: string[] }) {
  const visible = series.filter((s) => !hidden.includes(s.label) && s.points.some((p) => p.outcomes));
  const bars = visible.reduce((n, s) => n + s.points.filter((p) => p.outcomes).length, 0);
  return (
    <ChartFrame
      boxed
      title="Verification outcomes per round"
      units="% of the verification samples; one chart per method; x: pruning round (0 = dense)"
      legend={OUTCOMES.map((o) => ({ label: o, color: OUTCOME_COLORS[o] }))}
      testId="outcome-chart"
      empty={visible.length === 0}
      className="wide"
      data={{ bars }}
      caption="Hover a bar for its figures. Paler bars are rounds still being verified (the samples decided so far)."
    >
      {visible.length === 0 ? (
        <div className="empty">No verification outcomes yet.</div>
      ) : (
        <div className="multiples">
          {visible.map((s) => (
            <div key={s.key}>
              <h3 data-export-label={s.label}>
                <span className="swatch" style={{ background: s.color, width: 10, height: 10, borderRadius: 2, display: "inline-block" }} />
                {s.label}
              </h3>
              <Multiple series={s} />
            </div>
          ))}
        </div>
      )}
    </ChartFrame>
  );
});
