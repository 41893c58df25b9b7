"use client";
/**
 * Verification time per sample against sparsity: the paper's point that pruning makes
 * complete verification cheaper (every ~30% more channel sparsity about halves it).
 * Both axes are logarithmic: times span milliseconds to the timeout.
 */
import { memo } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Series } from "@/lib/compare/series";
import { ChartFrame } from "@/components/charts/ChartFrame";
import { AXIS_STYLE, mergeByX, ratioAxis, TooltipBox, tooltipPoints } from "./chartParts";
import { ratio, seconds } from "@/lib/format";

interface Point { x: number; y: number; round: number; series: string; color: string; channels: number }

export const VerifyTimeChart = memo(function VerifyTimeChart({ series, hidden }: { series: Series[]; hidden: string[] }) {
  const visible = series.filter((s) => !hidden.includes(s.label));
  const lines = visible.map((s) => ({
    s,
    points: s.points.flatMap((p): Point[] =>
      p.n > 0 && p.meanVerifySeconds ? [{ x: Math.max(1e-5, p.remainingRatio.mean), y: Math.max(1e-3, p.meanVerifySeconds.mean), round: p.round, series: s.label, color: s.color, channels: p.remainingChannelRatio.mean }] : [],
    ),
  }));
  const all = lines.flatMap((l) => l.points);
  const data = mergeByX(lines.map((l) => l.points), ["y"]);
  const axis = ratioAxis(all.map((p) => p.x));
  const ys = all.map((p) => p.y);
  const yTicks = [0.001, 0.01, 0.1, 1, 10, 100, 1000].filter((t) => t >= Math.min(...ys) / 10 && t <= Math.max(...ys) * 10);
  return (
    <ChartFrame
      boxed
      title="Verification time vs remaining weights"
      units="y: mean seconds per verification sample (log scale); x: remaining weights (log scale)"
      legend={visible.map((s) => ({ label: s.label, color: s.color }))}
      testId="time-chart"
      empty={all.length === 0}
      data={{ points: all.length }}
    >
      {all.length === 0 ? (
        <div className="empty">No verification times yet.</div>
      ) : (
        <ResponsiveContainer width="100%" height={280}>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 22, left: 8 }}>
            <CartesianGrid stroke="#e7ebf0" />
            <XAxis type="number" dataKey="x" scale="log" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.tickFormatter} reversed allowDataOverflow tick={AXIS_STYLE}
              label={{ value: "remaining weights →  sparser", position: "insideBottom", offset: -14, style: AXIS_STYLE }} />
            <YAxis type="number" scale="log" domain={[Math.min(...yTicks), Math.max(...yTicks)]} ticks={yTicks} allowDataOverflow tickFormatter={(v: number) => seconds(v)} tick={AXIS_STYLE} width={60} />
            <Tooltip
              isAnimationActive={false}
              content={({ active, payload }) => {
                const rows = tooltipPoints<Point>(payload, "y");
                if (!active || !rows.length) return null;
                return <TooltipBox head={`remaining ${ratio(rows[0].x)} · round ${rows[0].round}`} rows={rows.map((p) => ({ color: p.color, label: p.series, value: seconds(p.y) }))} />;
              }}
            />
            {lines.map(({ s }, i) => (
              <Line key={s.key} dataKey={`y_${i}`} name={s.label} connectNulls stroke={s.color} strokeWidth={2} dot={{ r: 3, fill: s.color }} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </ChartFrame>
  );
});
