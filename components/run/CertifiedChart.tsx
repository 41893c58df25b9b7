"use client";
/**
 * Certified (verified) accuracy against the remaining fraction, on a log scale with the
 * dense network on the left: the paper's main curve. One point per finished round, each
 * accuracy with its 95% Wilson interval as an error bar. The x axis says what the
 * remaining fraction counts (lib/sparsity) and the reader can switch it.
 */
import { useState } from "react";
import { CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, useXAxisScale, useYAxisScale, XAxis, YAxis } from "recharts";
import { ChartFrame, type LegendEntry } from "@/components/charts/ChartFrame";
import type { CurvePoint } from "@/lib/run/selectors";
import { SPARSITY_BASES, SPARSITY_LABELS, type SparsityBasis } from "@/lib/sparsity";
import { AXIS_TICK, COLORS } from "./palette";

const TICKS = [1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];

const xOf = (p: CurvePoint, basis: SparsityBasis) =>
  basis === "scope" ? p.remainingRatio : basis === "all" ? (p.remainingOfAllWeights ?? null) : (p.remainingOfChannels ?? null);

interface Bar {
  ratio: number;
  /** [lo, hi] in percent. */
  ci: [number, number];
  color: string;
  /** Half the cap's width, px. */
  cap: number;
}

/** Error bars drawn with the chart's own scales (one layer for all). */
function ErrorBars({ bars }: { bars: Bar[] }) {
  const x = useXAxisScale();
  const y = useYAxisScale();
  if (!x || !y) return null;
  return (
    <g className="error-bars" data-testid="run-error-bars">
      {bars.map((b, i) => {
        const cx = x(b.ratio) ?? 0;
        const [lo, hi] = [y(b.ci[0]) ?? 0, y(b.ci[1]) ?? 0];
        return (
          <g key={i} stroke={b.color} strokeWidth={1.5} className="error-bar">
            <line x1={cx} x2={cx} y1={lo} y2={hi} />
            <line x1={cx - b.cap} x2={cx + b.cap} y1={lo} y2={lo} />
            <line x1={cx - b.cap} x2={cx + b.cap} y1={hi} y2={hi} />
          </g>
        );
      })}
    </g>
  );
}

const percent = (ci: [number, number] | null | undefined): [number, number] | null => (ci ? [ci[0] * 100, ci[1] * 100] : null);

/**
 * plannedRatio: the remaining ratio (of the pruned layers) the run should end at, so the
 * axis does not jump as rounds arrive (null: only what has been measured).
 */
export function CertifiedChart(props: { curve: CurvePoint[]; verifying: boolean; filename: string; plannedRatio: number | null }) {
  const { curve, verifying, filename, plannedRatio } = props;
  const [basis, setBasis] = useState<SparsityBasis>("scope");
  const available = SPARSITY_BASES.filter((b) => b === "scope" || curve.some((p) => xOf(p, b) != null));
  const chosen = available.includes(basis) ? basis : "scope";
  const label = SPARSITY_LABELS[chosen];
  const points = curve.flatMap((p) => {
    const ratio = xOf(p, chosen);
    if (ratio == null) return [];
    return [{
      round: p.round,
      ratio,
      verified: p.verifiedAccuracy == null ? null : p.verifiedAccuracy * 100,
      verifiedCi: percent(p.verifiedCi),
      standard: p.standardAccuracy * 100,
      standardCi: percent(p.standardCi),
      adversarial: p.adversarialAccuracy == null ? null : p.adversarialAccuracy * 100,
      adversarialCi: percent(p.adversarialCi),
      ci: p.verifiedCi,
    }];
  });
  const hasAdversarial = points.some((p) => p.adversarial != null);
  const bars: Bar[] = points.flatMap((p) => [
    ...(verifying && p.verifiedCi ? [{ ratio: p.ratio, ci: p.verifiedCi, color: COLORS.verified, cap: 5 }] : []),
    ...(p.standardCi ? [{ ratio: p.ratio, ci: p.standardCi, color: COLORS.standard, cap: 3 }] : []),
    ...(p.adversarialCi ? [{ ratio: p.ratio, ci: p.adversarialCi, color: COLORS.adversarial, cap: 3 }] : []),
  ]);
  const certified = points.filter((p) => p.verified != null).length;
  const planned = chosen === "scope" ? (plannedRatio ?? 1) : 1;
  const smallest = Math.min(planned, ...points.map((p) => p.ratio).filter((r) => r > 0));
  const low = Math.max(1e-4, Math.min(0.5, smallest * 0.8));
  const ticks = TICKS.filter((t) => t >= low && t <= 1);
  const legend: LegendEntry[] = [
    ...(verifying ? [{ label: "verified (certified) accuracy, 95% interval", color: COLORS.verified }] : []),
    { label: "standard accuracy", color: COLORS.standard, dashed: true },
    ...(hasAdversarial ? [{ label: "PGD (adversarial) accuracy", color: COLORS.adversarial, dashed: true }] : []),
  ];
  const select = (
    <label className="muted" style={{ fontSize: "0.85rem" }}>
      x: remaining{" "}
      <select value={chosen} onChange={(e) => setBasis(e.target.value as SparsityBasis)} aria-label="x axis: remaining fraction of" data-testid="run-sparsity-basis">
        {SPARSITY_BASES.map((b) => <option key={b} value={b} disabled={!available.includes(b)}>{SPARSITY_LABELS[b].short}{available.includes(b) ? "" : " (not recorded)"}</option>)}
      </select>
    </label>
  );
  return (
    <ChartFrame
      title={`Certified accuracy vs remaining ${chosen === "channels" ? "channels" : "weights"} (${label.short})`}
      filename={filename}
      legend={legend}
      controls={select}
      testId="certified-chart"
      data={{ points: certified, rounds: points.length, basis: chosen, bars: bars.length }}
      empty={curve.length === 0 ? "Waiting for round 0 (the dense network) to finish…" : null}
      caption={<>Error bars: 95% Wilson intervals of each accuracy&apos;s count (verification samples; evaluation images). x: {label.help}</>}
    >
      {!verifying && <p className="muted">Verification is off for this run: only standard accuracy is plotted.</p>}
      <div style={{ width: "100%", height: 300 }}>
        <ResponsiveContainer>
          <ComposedChart data={points} margin={{ top: 12, right: 20, bottom: 8, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke={COLORS.grid} />
            <XAxis
              dataKey="ratio" type="number" scale="log" domain={[low, 1]} reversed ticks={ticks} allowDataOverflow padding={{ left: 14, right: 14 }}
              tickFormatter={(v: number) => `${+(v * 100).toPrecision(2)}%`} tick={AXIS_TICK} height={40}
              label={{ value: `remaining ${chosen === "channels" ? "channels" : "weights"} (log scale, dense on the left) · ${label.short}`, position: "insideBottom", offset: -2, fontSize: 12 }}
            />
            <YAxis domain={[0, 100]} unit="%" tick={AXIS_TICK} width={56} label={{ value: "accuracy (%)", angle: -90, position: "insideLeft", offset: 8, fontSize: 12, style: { textAnchor: "middle" } }} />
            <Tooltip
              labelFormatter={(_, p) => {
                const q = p?.[0]?.payload;
                return q ? `round ${q.round} · ${(q.ratio * 100).toPrecision(3)}% ${label.short} left${q.ci ? ` · verified 95% CI [${(q.ci[0] * 100).toFixed(1)}, ${(q.ci[1] * 100).toFixed(1)}]` : ""}` : "";
              }}
              formatter={(v) => (typeof v === "number" ? `${v.toFixed(1)}%` : "–")}
            />
            {verifying && (
              <Line type="linear" dataKey="verified" name="verified accuracy" stroke={COLORS.verified} strokeWidth={2.5} dot={{ r: 4 }} isAnimationActive={false} connectNulls />
            )}
            <Line type="linear" dataKey="standard" name="standard accuracy" stroke={COLORS.standard} strokeDasharray="5 3" dot={{ r: 3 }} isAnimationActive={false} />
            {hasAdversarial && (
              <Line type="linear" dataKey="adversarial" name="PGD accuracy" stroke={COLORS.adversarial} strokeDasharray="5 3" dot={{ r: 3 }} isAnimationActive={false} connectNulls />
            )}
            <ErrorBars bars={bars} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </ChartFrame>
  );
}
