"use client";
/**
 * Training curves: loss and accuracies per epoch, then epsilon and learning rate, for
 * one round or all rounds end to end (round boundaries marked). Grows as epochs arrive.
 */
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, type LegendEntry } from "@/components/charts/ChartFrame";
import type { Epoch } from "@/lib/run/fold";
import { AXIS_TICK, COLORS } from "./palette";
import { RoundSelect, useRoundChoice } from "./RoundSelect";

interface Point {
  step: number;
  name: string;
  loss: number;
  train: number;
  test: number | null;
  robust: number | null;
  eps: number;
  lr: number;
}

export function TrainingChart({ epochs, filename, ratios }: { epochs: Epoch[]; filename: string; ratios?: ReadonlyMap<number, number> }) {
  const rounds = [...new Set(epochs.map((e) => e.round))];
  const [choice, setChoice] = useRoundChoice(rounds, "all");
  const shown = choice === "all" || choice == null ? epochs : epochs.filter((e) => e.round === choice);
  const points: Point[] = shown.map((e, i) => ({
    step: choice === "all" ? i + 1 : e.epoch,
    name: `round ${e.round}, epoch ${e.epoch} of ${e.epochs}`,
    loss: e.loss,
    train: e.trainAccuracy * 100,
    test: e.testAccuracy == null ? null : e.testAccuracy * 100,
    robust: e.robustAccuracy == null ? null : e.robustAccuracy * 100,
    eps: e.eps,
    lr: e.lr,
  }));
  const boundaries = choice === "all" ? points.filter((p, i) => i > 0 && shown[i].round !== shown[i - 1].round) : [];
  const lrLog = points.every((p) => p.lr > 0);
  const hasTest = points.some((p) => p.test != null);
  const hasRobust = points.some((p) => p.robust != null);
  const legend: LegendEntry[] = [
    { label: "loss (left axis)", color: COLORS.loss },
    { label: "train accuracy", color: COLORS.train },
    ...(hasTest ? [{ label: "test accuracy", color: COLORS.test }] : []),
    ...(hasRobust ? [{ label: "robust accuracy", color: COLORS.robust }] : []),
    { label: "ε (lower chart, left)", color: COLORS.eps },
    { label: "learning rate (lower chart, right)", color: COLORS.lr, dashed: true },
  ];
  const xLabel = choice === "all" ? "epoch (all rounds, end to end)" : "epoch";
  const tooltip = (
    <Tooltip
      labelFormatter={(_, p) => p?.[0]?.payload?.name ?? ""}
      formatter={(v, name) => (typeof v !== "number" ? String(v ?? "") : name === "loss" || name === "ε" ? v.toFixed(4) : name === "learning rate" ? v.toExponential(2) : `${v.toFixed(1)}%`)}
    />
  );
  const xAxis = <XAxis dataKey="step" type="number" domain={["dataMin", "dataMax"]} allowDecimals={false} tick={AXIS_TICK} label={{ value: xLabel, position: "insideBottom", offset: -4, fontSize: 12 }} height={36} />;
  const marks = boundaries.map((p) => (
    <ReferenceLine key={p.step} x={p.step - 0.5} stroke="#aab3bf" strokeDasharray="4 3" label={{ value: `r${shown[p.step - 1].round}`, position: "insideTopLeft", fontSize: 11, fill: "#5f6b7a" }} />
  ));
  return (
    <ChartFrame
      title="Training curves"
      filename={filename}
      legend={legend}
      testId="training-chart"
      data={{ points: points.length, round: choice ?? "all" }}
      empty={epochs.length === 0 ? "Waiting for the first epoch…" : null}
      controls={<RoundSelect label="Show" rounds={rounds} value={choice} onChange={setChoice} ratios={ratios} allowAll testId="training-round" />}
    >
      <div style={{ width: "100%", height: 260 }}>
        <ResponsiveContainer>
          <LineChart data={points} margin={{ top: 8, right: 12, bottom: 8, left: 4 }} syncId="training">
            <CartesianGrid strokeDasharray="3 3" stroke={COLORS.grid} />
            {xAxis}
            <YAxis yAxisId="loss" tick={AXIS_TICK} width={56} label={{ value: "loss (cross-entropy)", angle: -90, position: "insideLeft", offset: 4, fontSize: 12, style: { textAnchor: "middle" } }} />
            <YAxis yAxisId="acc" orientation="right" domain={[0, 100]} unit="%" tick={AXIS_TICK} width={52} label={{ value: "accuracy (%)", angle: 90, position: "insideRight", offset: 4, fontSize: 12, style: { textAnchor: "middle" } }} />
            {tooltip}
            {marks}
            <Line yAxisId="loss" type="linear" dataKey="loss" name="loss" stroke={COLORS.loss} dot={false} isAnimationActive={false} />
            <Line yAxisId="acc" type="linear" dataKey="train" name="train accuracy" stroke={COLORS.train} dot={false} isAnimationActive={false} />
            {hasTest && <Line yAxisId="acc" type="linear" dataKey="test" name="test accuracy" stroke={COLORS.test} dot={false} isAnimationActive={false} />}
            {hasRobust && <Line yAxisId="acc" type="linear" dataKey="robust" name="robust accuracy" stroke={COLORS.robust} dot={false} isAnimationActive={false} />}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <div style={{ width: "100%", height: 150 }}>
        <ResponsiveContainer>
          <LineChart data={points} margin={{ top: 8, right: 12, bottom: 8, left: 4 }} syncId="training">
            <CartesianGrid strokeDasharray="3 3" stroke={COLORS.grid} />
            {xAxis}
            <YAxis yAxisId="eps" tick={AXIS_TICK} width={56} label={{ value: "ε (L∞, [0,1] pixels)", angle: -90, position: "insideLeft", offset: 4, fontSize: 11, style: { textAnchor: "middle" } }} />
            <YAxis yAxisId="lr" orientation="right" scale={lrLog ? "log" : "linear"} domain={["auto", "auto"]} tick={AXIS_TICK} width={52} tickFormatter={(v: number) => v.toExponential(0)} label={{ value: "learning rate", angle: 90, position: "insideRight", offset: 4, fontSize: 11, style: { textAnchor: "middle" } }} />
            {tooltip}
            {marks}
            <Line yAxisId="eps" type="stepAfter" dataKey="eps" name="ε" stroke={COLORS.eps} dot={false} isAnimationActive={false} />
            <Line yAxisId="lr" type="stepAfter" dataKey="lr" name="learning rate" stroke={COLORS.lr} strokeDasharray="5 3" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </ChartFrame>
  );
}
