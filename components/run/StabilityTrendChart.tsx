"use client";
/** Unstable ratio (IBP bounds at the verification eps; a share of neuron × sample pairs) and instability, round by round. */
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, type LegendEntry } from "@/components/charts/ChartFrame";
import type { CurvePoint } from "@/lib/run/selectors";
import { AXIS_TICK, COLORS } from "./palette";

export function StabilityTrendChart({ curve, verifying, filename }: { curve: CurvePoint[]; verifying: boolean; filename: string }) {
  const points = curve
    .filter((p) => p.unstableRatio != null || p.instability != null)
    .map((p) => ({
      round: p.round,
      ratio: p.remainingRatio,
      unstable: p.unstableRatio == null ? null : p.unstableRatio * 100,
      instability: p.instability,
    }));
  const legend: LegendEntry[] = [
    { label: "unstable (% of neuron × sample pairs, IBP, left)", color: COLORS.unstable },
    { label: "instability Σ −l·u (right)", color: COLORS.instability, dashed: true },
  ];
  const empty = !verifying
    ? "Stability is measured with verification, which is off for this run."
    : points.length === 0 ? "Waiting for round 0 (the dense network) to finish…" : null;
  return (
    <ChartFrame title="Neuron instability by round" filename={filename} legend={legend} testId="instability-chart" data={{ points: points.length }} empty={empty}>
      <div style={{ width: "100%", height: 300 }}>
        <ResponsiveContainer>
          <LineChart data={points} margin={{ top: 12, right: 8, bottom: 8, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke={COLORS.grid} />
            <XAxis dataKey="round" type="number" domain={["dataMin", "dataMax"]} allowDecimals={false} tick={AXIS_TICK} height={40} padding={{ left: 12, right: 12 }}
              label={{ value: "pruning round (0 = dense)", position: "insideBottom", offset: -2, fontSize: 12 }} />
            <YAxis yAxisId="ratio" unit="%" domain={[0, "auto"]} tick={AXIS_TICK} width={56} label={{ value: "unstable pairs (%)", angle: -90, position: "insideLeft", offset: 8, fontSize: 12, style: { textAnchor: "middle" } }} />
            <YAxis yAxisId="inst" orientation="right" domain={[0, "auto"]} tick={AXIS_TICK} width={64} tickFormatter={(v: number) => (v >= 1000 ? v.toExponential(1) : String(+v.toPrecision(3)))}
              label={{ value: "instability Σ −l·u", angle: 90, position: "insideRight", offset: 4, fontSize: 12, style: { textAnchor: "middle" } }} />
            <Tooltip
              labelFormatter={(_, p) => {
                const q = p?.[0]?.payload;
                return q ? `round ${q.round} · ${(q.ratio * 100).toPrecision(3)}% of weights left` : "";
              }}
              formatter={(v, name) => (typeof v !== "number" ? "–" : name === "unstable neurons" ? `${v.toFixed(1)}%` : v.toPrecision(4))}
            />
            <Line yAxisId="ratio" type="linear" dataKey="unstable" name="unstable neurons" stroke={COLORS.unstable} strokeWidth={2} dot={{ r: 4 }} isAnimationActive={false} connectNulls />
            <Line yAxisId="inst" type="linear" dataKey="instability" name="instability" stroke={COLORS.instability} strokeDasharray="5 3" dot={{ r: 3 }} isAnimationActive={false} connectNulls />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </ChartFrame>
  );
}
