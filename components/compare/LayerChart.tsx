"use client";
/** How much of one layer each method keeps, round by round (the layer is part of the view's state). */
import { memo } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Series } from "@/lib/compare/series";
import { ChartFrame } from "@/components/charts/ChartFrame";
import { AXIS_STYLE, mergeByX, TooltipBox, tooltipPoints } from "./chartParts";
import { pct } from "@/lib/format";

interface Point { x: number; round: number; y: number; series: string; color: string }

export function layerNames(series: Series[]): string[] {
  return [...new Set(series.flatMap((s) => s.points.flatMap((p) => p.layers.map((l) => l.name))))];
}

export const LayerChart = memo(function LayerChart({ series, hidden, layer, onLayer }: { series: Series[]; hidden: string[]; layer: string | null; onLayer?: (layer: string) => void }) {
  const names = layerNames(series);
  const chosen = layer && names.includes(layer) ? layer : names[0] ?? null;
  const visible = series.filter((s) => !hidden.includes(s.label));
  const lines = visible.map((s) => ({
    s,
    points: s.points.flatMap((p): Point[] => {
      const l = p.layers.find((x) => x.name === chosen);
      return p.n > 0 && l && Number.isFinite(l.remaining.mean) ? [{ x: p.round, round: p.round, y: l.remaining.mean, series: s.label, color: s.color }] : [];
    }),
  }));
  const all = lines.flatMap((l) => l.points);
  const data = mergeByX(lines.map((l) => l.points), ["y"]);
  const maxRound = Math.max(0, ...all.map((p) => p.round));
  const select = (
    <label className="count">
      Layer{" "}
      <select className="inline-select" value={chosen ?? ""} onChange={(e) => onLayer?.(e.target.value)} disabled={!onLayer || names.length === 0} aria-label="Layer">
        {names.map((n) => <option key={n} value={n}>{n}</option>)}
      </select>
    </label>
  );
  return (
    <ChartFrame
      boxed
      title={chosen ? `Remaining weights of layer ${chosen}` : "Remaining weights per layer"}
      units="y: % of the layer's weights kept; x: pruning round"
      legend={visible.map((s) => ({ label: s.label, color: s.color }))}
      testId="layer-chart"
      empty={all.length === 0}
      controls={names.length ? select : undefined}
      data={{ layer: chosen ?? "", points: all.length }}
    >
      {all.length === 0 ? (
        <div className="empty">No per-layer figures yet.</div>
      ) : (
        <ResponsiveContainer width="100%" height={280}>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 22, left: 8 }}>
            <CartesianGrid stroke="#e7ebf0" />
            <XAxis type="number" dataKey="x" domain={[0, Math.max(1, maxRound)]} allowDecimals={false} tick={AXIS_STYLE}
              label={{ value: "pruning round", position: "insideBottom", offset: -14, style: AXIS_STYLE }} />
            <YAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} tick={AXIS_STYLE} width={48} />
            <Tooltip
              isAnimationActive={false}
              content={({ active, payload }) => {
                const rows = tooltipPoints<Point>(payload, "y");
                if (!active || !rows.length) return null;
                return <TooltipBox head={`round ${rows[0].round} · ${chosen}`} rows={rows.map((p) => ({ color: p.color, label: p.series, value: pct(p.y) }))} />;
              }}
            />
            {lines.map(({ s }, i) => (
              <Line key={s.key} dataKey={`y_${i}`} name={s.label} connectNulls stroke={s.color} strokeWidth={2} dot={{ r: 2.5, fill: s.color }} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </ChartFrame>
  );
});
