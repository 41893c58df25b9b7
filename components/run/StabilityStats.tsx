"use client";
/**
 * Stability statistics per neuron and per sample (a round's `stability` event), each
 * labelled with what it counts: per neuron, the fraction of the samples on which it is
 * unstable (IBP); per sample, how many neurons are unstable on it over all layers. Events
 * from an older engine lack both: they say "not recorded".
 */
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame } from "@/components/charts/ChartFrame";
import type { Stability, StabilityLayer } from "@/lib/run/fold";
import { histogramBins } from "@/lib/run/selectors";
import { AXIS_TICK, COLORS } from "./palette";
import styles from "./run.module.css";

const pctText = (x: number) => `${(x * 100).toFixed(0)}%`;

/** Per neuron of `layer`: how many neurons are unstable on what share of the samples. */
export function PerNeuronChart({ layer, filename }: { layer: StabilityLayer; filename: string }) {
  const h = layer.unstableFraction;
  const bins = h ? histogramBins(h).map((b) => ({ ...b, label: `${pctText(b.from)}–${pctText(b.to)}` })) : [];
  const units = layer.units;
  return (
    <ChartFrame
      title={`Per neuron: fraction of samples on which it is unstable (${layer.name})`}
      units="y: neurons; x: fraction of the samples on which the neuron is unstable (IBP)"
      filename={`${filename}-per-neuron-${layer.name}`}
      testId="per-neuron-chart"
      level={3}
      data={{ layer: layer.name, units: units ?? "", recorded: h ? "yes" : "no" }}
      empty={h ? null : "Per-neuron statistics were not recorded by this run's engine."}
      caption={units != null && layer.samples != null
        ? <>{layer.name}: {units} neurons × {layer.samples} samples = {layer.neurons} neuron-sample pairs; {layer.unstableUnits ?? "?"} neurons are unstable on at least one sample.</>
        : null}
    >
      <div style={{ width: "100%", height: 200 }}>
        <ResponsiveContainer>
          <BarChart data={bins} margin={{ top: 4, right: 12, bottom: 8, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke={COLORS.grid} vertical={false} />
            <XAxis dataKey="label" tick={AXIS_TICK} interval="preserveStartEnd" />
            <YAxis tick={AXIS_TICK} allowDecimals={false} width={44} />
            <Tooltip formatter={(v) => [`${v} neurons`, "count"]} />
            <Bar dataKey="count" fill={COLORS.unstable} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </ChartFrame>
  );
}

/** Per sample: unstable neurons over all layers, as a summary and a histogram. */
export function PerSampleStats({ stability }: { stability: Stability }) {
  const xs = stability.unstablePerSample;
  if (!xs || xs.length === 0) {
    return <p className="muted" data-testid="per-sample-stats" data-recorded="no">Per sample: unstable neurons per sample were not recorded by this run&apos;s engine.</p>;
  }
  const sorted = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const units = stability.layers.reduce((a, l) => a + (l.units ?? 0), 0);
  return (
    <p className="muted" data-testid="per-sample-stats" data-recorded="yes" data-samples={xs.length}>
      <strong>Per sample</strong> (unstable neurons over all layers, IBP{units ? `, of ${units} neurons` : ""}; {xs.length} samples):
      {" "}min {sorted[0]}, median {median}, mean {mean.toFixed(1)}, max {sorted[sorted.length - 1]}.
    </p>
  );
}

/** The caption under the per-layer table: what its counts count. */
export function PairsNote({ stability }: { stability: Stability }) {
  const samples = stability.samples ?? stability.layers.find((l) => l.samples != null)?.samples;
  return (
    <p className={`muted ${styles.sampleDetail}`} data-testid="pairs-note">
      Counts are <strong>neuron × sample pairs</strong>: a neuron counts once for every sample it was bounded on
      {samples != null ? ` (${samples} samples)` : ""}. The per-neuron chart counts each neuron once.
    </p>
  );
}
