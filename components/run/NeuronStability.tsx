"use client";
/**
 * Neuron stability of one round (from its 'stability' event): per layer, how many ReLUs
 * are stably active, stably inactive or unstable under IBP and CROWN bounds, and the
 * histograms of the pre-activation bounds l, u and of -l*u for a chosen layer.
 */
import { useId, useState } from "react";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, type LegendEntry } from "@/components/charts/ChartFrame";
import type { Stability, StabilityLayer } from "@/lib/run/fold";
import { histogramBins } from "@/lib/run/selectors";
import { AXIS_TICK, COLORS } from "./palette";
import { RoundSelect, useRoundChoice, type RoundControl } from "./RoundSelect";
import styles from "./run.module.css";
import { PairsNote, PerNeuronChart, PerSampleStats } from "./StabilityStats";

const share = (n: number, of: number) => (of ? (100 * n) / of : 0);

export function NeuronStability(props: {
  stability: Stability[];
  verifying: boolean;
  filename: string;
  ratios?: ReadonlyMap<number, number>;
  /** The page's round (the run page's ?round=); absent: this section chooses its own. */
  round?: RoundControl;
  /** The page's layer for the histograms (?layer=); absent: this section chooses its own. */
  layer?: { value: string | null; onChange: (layer: string) => void };
}) {
  const { stability, verifying, filename, ratios } = props;
  const rounds = stability.map((s) => s.round);
  const [round, setRound] = useRoundChoice(rounds, null, props.round);
  const current = stability.find((s) => s.round === round) ?? null;
  const [ownLayer, setOwnLayer] = useState<string | null>(null);
  const layerName = props.layer ? props.layer.value : ownLayer;
  const setLayerName = props.layer ? props.layer.onChange : setOwnLayer;
  const layerId = useId();
  const layers = current?.layers ?? [];
  const layer = layers.find((l) => l.name === layerName) ?? layers[0] ?? null;
  const hasCrown = layers.some((l) => l.crown != null);

  if (!verifying) return <div className="empty">Stability is measured with verification, which is off for this run.</div>;
  if (!current) return <div className="empty">Waiting for the first stability analysis (after round 0 is trained)…</div>;

  const bars = layers.map((l) => ({
    layer: l.name,
    neurons: l.neurons,
    ibpActive: share(l.ibp.active, l.neurons),
    ibpInactive: share(l.ibp.inactive, l.neurons),
    ibpUnstable: share(l.ibp.unstable, l.neurons),
    crownActive: l.crown ? share(l.crown.active, l.neurons) : null,
    crownInactive: l.crown ? share(l.crown.inactive, l.neurons) : null,
    crownUnstable: l.crown ? share(l.crown.unstable, l.neurons) : null,
  }));
  const countsLegend: LegendEntry[] = [
    { label: "stable active (IBP)", color: COLORS.active },
    { label: "stable inactive (IBP)", color: COLORS.inactive },
    { label: "unstable (IBP)", color: COLORS.unstable },
    ...(hasCrown ? [
      { label: "… under CROWN (lighter bar)", color: COLORS.active, opacity: 0.45 },
    ] : []),
  ];
  const selector = (
    <RoundSelect label="Round" rounds={rounds} value={round} onChange={setRound} ratios={ratios} testId="stability-round" />
  );
  return (
    <div data-testid="stability-section" data-round={current.round}>
      <div className={styles.cols2}>
        <ChartFrame
          title="ReLU stability per layer"
          filename={`${filename}-round${current.round}`}
          legend={countsLegend}
          controls={selector}
          testId="stability-counts-chart"
          level={3}
          data={{ round: current.round }}
        >
          <p className="muted">Share of each layer&apos;s neuron × sample pairs (each neuron once per sample); bounds at ε = {current.eps.toPrecision(3)}{hasCrown ? "; upper bar IBP, lower bar CROWN" : ", by IBP"}.</p>
          <div style={{ width: "100%", height: 70 + layers.length * (hasCrown ? 56 : 34) }}>
            <ResponsiveContainer>
              <BarChart data={bars} layout="vertical" margin={{ top: 4, right: 16, bottom: 8, left: 4 }} barGap={2}>
                <CartesianGrid strokeDasharray="3 3" stroke={COLORS.grid} horizontal={false} />
                <XAxis type="number" domain={[0, 100]} unit="%" tick={AXIS_TICK} height={40} label={{ value: "share of the layer's neuron × sample pairs (%)", position: "insideBottom", offset: -2, fontSize: 12 }} />
                <YAxis type="category" dataKey="layer" tick={AXIS_TICK} width={90} />
                <Tooltip formatter={(v) => (typeof v === "number" ? `${v.toFixed(1)}%` : "–")} />
                <Bar dataKey="ibpActive" name="IBP stable active" stackId="ibp" fill={COLORS.active} isAnimationActive={false} />
                <Bar dataKey="ibpInactive" name="IBP stable inactive" stackId="ibp" fill={COLORS.inactive} isAnimationActive={false} />
                <Bar dataKey="ibpUnstable" name="IBP unstable" stackId="ibp" fill={COLORS.unstable} isAnimationActive={false} />
                {hasCrown && <Bar dataKey="crownActive" name="CROWN stable active" stackId="crown" fill={COLORS.active} fillOpacity={0.45} isAnimationActive={false} />}
                {hasCrown && <Bar dataKey="crownInactive" name="CROWN stable inactive" stackId="crown" fill={COLORS.inactive} fillOpacity={0.45} isAnimationActive={false} />}
                {hasCrown && <Bar dataKey="crownUnstable" name="CROWN unstable" stackId="crown" fill={COLORS.unstable} fillOpacity={0.45} isAnimationActive={false} />}
              </BarChart>
            </ResponsiveContainer>
          </div>
        </ChartFrame>
        {layer && (
          <ChartFrame
            title={`Bound histograms, round ${current.round}`}
            filename={`${filename}-round${current.round}-${layer.name}`}
            legend={[{ label: "neuron × sample pairs per bin", color: COLORS.standard }, { label: "unstable pairs per bin of −l·u", color: COLORS.unstable }]}
            testId="histogram-chart"
            level={3}
            data={{ round: current.round, layer: layer.name, total: layer.histograms.lower.counts.reduce((a, b) => a + b, 0) }}
            controls={
              <span className={styles.select}>
                <label htmlFor={layerId}>Layer</label>
                <select id={layerId} value={layer.name} onChange={(e) => setLayerName(e.target.value)} data-testid="stability-layer">
                  {layers.map((l) => <option key={l.name} value={l.name}>{l.name} ({l.units != null ? `${l.units} neurons` : `${l.neurons} neuron × sample pairs`})</option>)}
                </select>
              </span>
            }
          >
            <div className={styles.histograms}>
              <Histogram layer={layer} which="lower" axis="pre-activation lower bound l" color={COLORS.standard} />
              <Histogram layer={layer} which="upper" axis="pre-activation upper bound u" color={COLORS.standard} />
              <Histogram layer={layer} which="instability" axis="−l·u of unstable neurons" color={COLORS.unstable} />
            </div>
          </ChartFrame>
        )}
      </div>
      <div className={styles.tableScroll}>
        <table data-testid="stability-table">
          <caption className="muted">Round {current.round}: ReLUs by stability (IBP{hasCrown ? " / CROWN" : ""}), counted over neuron × sample pairs</caption>
          <thead>
            <tr>
              <th>layer</th><th className="num" title="neurons in the layer">neurons</th><th className="num" title="neurons × samples: what active / inactive / unstable count">neuron × sample pairs</th>
              <th className="num" title="neurons unstable (IBP) on at least one sample">unstable neurons</th>
              <th className="num">active</th><th className="num">inactive</th><th className="num">unstable</th>
              <th className="num">instability Σ −l·u</th>
            </tr>
          </thead>
          <tbody>
            {layers.map((l) => (
              <tr key={l.name} data-layer={l.name}>
                <td>{l.name}</td>
                <td className="num">{l.units ?? "not recorded"}</td>
                <td className="num">{l.neurons}</td>
                <td className="num">{l.unstableUnits ?? "not recorded"}</td>
                <td className="num">{pair(l, "active")}</td>
                <td className="num">{pair(l, "inactive")}</td>
                <td className="num" data-testid="unstable-count">{pair(l, "unstable")}</td>
                <td className="num">{l.instability.toPrecision(4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <PairsNote stability={current} />
      <PerSampleStats stability={current} />
      {layer && <PerNeuronChart layer={layer} filename={`${filename}-round${current.round}`} />}
    </div>
  );
}

function pair(l: StabilityLayer, key: "active" | "inactive" | "unstable"): string {
  return l.crown ? `${l.ibp[key]} / ${l.crown[key]}` : String(l.ibp[key]);
}

const compact = (v: number) => (v === 0 ? "0" : Math.abs(v) >= 100 || Math.abs(v) < 0.01 ? v.toExponential(1) : String(+v.toPrecision(2)));

function Histogram({ layer, which, axis, color }: { layer: StabilityLayer; which: "lower" | "upper" | "instability"; axis: string; color: string }) {
  const bins = histogramBins(layer.histograms[which]).map((b) => ({ ...b, label: compact((b.from + b.to) / 2) }));
  const total = bins.reduce((a, b) => a + b.count, 0);
  return (
    <div data-testid={`histogram-${which}`} data-bins={bins.length} data-total={total} style={{ width: "100%", height: 210, minWidth: 0 }}>
      {bins.length === 0 ? (
        <div className="empty">no neurons</div>
      ) : (
        <ResponsiveContainer>
          <BarChart data={bins} margin={{ top: 8, right: 6, bottom: 8, left: 0 }} barCategoryGap={1}>
            <CartesianGrid strokeDasharray="3 3" stroke={COLORS.grid} vertical={false} />
            <XAxis dataKey="label" tick={{ ...AXIS_TICK, fontSize: 10 }} interval="preserveStartEnd" minTickGap={8} height={40}
              label={{ value: axis, position: "insideBottom", offset: -2, fontSize: 11 }} />
            <YAxis allowDecimals={false} tick={AXIS_TICK} width={44} label={{ value: "neuron × sample pairs", angle: -90, position: "insideLeft", offset: 10, fontSize: 11, style: { textAnchor: "middle" } }} />
            <Tooltip
              labelFormatter={(_, p) => {
                const b = p?.[0]?.payload;
                return b ? `[${b.from.toPrecision(3)}, ${b.to.toPrecision(3)})` : "";
              }}
              formatter={(v) => [String(v), "neuron × sample pairs"]}
            />
            <Bar dataKey="count" name="neurons" fill={color} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}
