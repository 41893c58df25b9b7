"use client";
/**
 * Certified (verified) accuracy against the remaining ratio, on a log scale with the
 * dense network on the left: the paper's main curve. One point per finished round.
 */
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, type LegendEntry } from "@/components/charts/ChartFrame";
import type { CurvePoint } from "@/lib/run/selectors";
import { AXIS_TICK, COLORS } from "./palette";

const TICKS = [1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];

/**
 * plannedRatio: the remaining ratio the run should end at, so the axis does not jump as
 * rounds arrive (null: only what has been measured).
 */
export function CertifiedChart(props: { curve: CurvePoint[]; verifying: boolean; filename: string; plannedRatio: number | null }) {
  const { curve, verifying, filename, plannedRatio } = props;
  const points = curve.map((p) => ({
    round: p.round,
    ratio: p.remainingRatio,
    verified: p.verifiedAccuracy == null ? null : p.verifiedAccuracy * 100,
    standard: p.standardAccuracy * 100,
    adversarial: p.adversarialAccuracy == null ? null : p.adversarialAccuracy * 100,
  }));
  const hasAdversarial = points.some((p) => p.adversarial != null);
  const certified = points.filter((p) => p.verified != null).length;
  const smallest = Math.min(plannedRatio ?? 1, ...points.map((p) => p.ratio).filter((r) => r > 0));
  const low = Math.max(1e-4, Math.min(0.5, smallest * 0.8));
  const ticks = TICKS.filter((t) => t >= low && t <= 1);
  const legend: LegendEntry[] = [
    ...(verifying ? [{ label: "verified (certified) accuracy", color: COLORS.verified }] : []),
    { label: "standard accuracy", color: COLORS.standard, dashed: true },
    ...(hasAdversarial ? [{ label: "PGD (adversarial) accuracy", color: COLORS.adversarial, dashed: true }] : []),
  ];
  return (
    <ChartFrame
      title="Certified accuracy vs remaining weights"
      filename={filename}
      legend={legend}
      testId="certified-chart"
      data={{ points: certified, rounds: points.length }}
      empty={points.length === 0 ? "Waiting for round 0 (the dense network) to finish…" : null}
    >
      {!verifying && <p className="muted">Verification is off for this run: only standard accuracy is plotted.</p>}
      <div style={{ width: "100%", height: 300 }}>
        <ResponsiveContainer>
          <LineChart data={points} margin={{ top: 12, right: 20, bottom: 8, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke={COLORS.grid} />
            <XAxis
              dataKey="ratio" type="number" scale="log" domain={[low, 1]} reversed ticks={ticks} allowDataOverflow padding={{ left: 14, right: 14 }}
              tickFormatter={(v: number) => `${+(v * 100).toPrecision(2)}%`} tick={AXIS_TICK} height={40}
              label={{ value: "remaining weights (log scale, dense on the left)", position: "insideBottom", offset: -2, fontSize: 12 }}
            />
            <YAxis domain={[0, 100]} unit="%" tick={AXIS_TICK} width={56} label={{ value: "accuracy (%)", angle: -90, position: "insideLeft", offset: 8, fontSize: 12, style: { textAnchor: "middle" } }} />
            <Tooltip
              labelFormatter={(_, p) => {
                const q = p?.[0]?.payload;
                return q ? `round ${q.round} · ${(q.ratio * 100).toPrecision(3)}% of weights left` : "";
              }}
              formatter={(v) => (typeof v === "number" ? `${v.toFixed(1)}%` : "–")}
            />
            {verifying && <Line type="linear" dataKey="verified" name="verified accuracy" stroke={COLORS.verified} strokeWidth={2.5} dot={{ r: 4 }} isAnimationActive={false} connectNulls />}
            <Line type="linear" dataKey="standard" name="standard accuracy" stroke={COLORS.standard} strokeDasharray="5 3" dot={{ r: 3 }} isAnimationActive={false} />
            {hasAdversarial && <Line type="linear" dataKey="adversarial" name="PGD accuracy" stroke={COLORS.adversarial} strokeDasharray="5 3" dot={{ r: 3 }} isAnimationActive={false} connectNulls />}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </ChartFrame>
  );
}
