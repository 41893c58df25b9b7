"use client";
/** Loss and accuracies per epoch, across rounds; it grows as epoch events arrive. */
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { EventOf } from "@/lib/protocol";

export function TrainingChart({ epochs }: { epochs: EventOf<"epoch">[] }) {
  if (epochs.length === 0) return <div className="empty">Waiting for the first epoch…</div>;
  const points = epochs.map((e, i) => ({
    step: i + 1,
    name: `round ${e.round}, epoch ${e.epoch}`,
    loss: e.loss,
    train: e.trainAccuracy * 100,
    test: e.testAccuracy == null ? null : e.testAccuracy * 100,
    robust: e.robustAccuracy == null ? null : e.robustAccuracy * 100,
  }));
  const hasTest = points.some((p) => p.test != null);
  const hasRobust = points.some((p) => p.robust != null);
  return (
    <div data-testid="training-chart" data-points={points.length} style={{ width: "100%", height: 300 }}>
      <ResponsiveContainer>
        <LineChart data={points} margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e3e7ed" />
          <XAxis dataKey="step" label={{ value: "epoch (all rounds)", position: "insideBottom", offset: -8 }} />
          <YAxis yAxisId="loss" label={{ value: "loss", angle: -90, position: "insideLeft" }} />
          <YAxis yAxisId="acc" orientation="right" domain={[0, 100]} unit="%" />
          <Tooltip labelFormatter={(_, p) => p?.[0]?.payload?.name ?? ""} formatter={(v, name) => (typeof v !== "number" ? String(v ?? "") : name === "loss" ? v.toFixed(4) : `${v.toFixed(1)}%`)} />
          <Legend verticalAlign="top" />
          <Line yAxisId="loss" type="monotone" dataKey="loss" stroke="#d2453b" dot={false} isAnimationActive={false} />
          <Line yAxisId="acc" type="monotone" dataKey="train" name="train accuracy" stroke="#2f6fde" dot={false} isAnimationActive={false} />
          {hasTest && <Line yAxisId="acc" type="monotone" dataKey="test" name="test accuracy" stroke="#2e9e5b" dot={false} isAnimationActive={false} />}
          {hasRobust && <Line yAxisId="acc" type="monotone" dataKey="robust" name="robust accuracy" stroke="#8b5cf6" dot={false} isAnimationActive={false} />}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
