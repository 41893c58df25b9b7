"use client";
/**
 * Everything the compare page draws for a set of runs: the accuracy-vs-sparsity chart,
 * Table I, outcome bars, verification time, per-layer sparsity and the settings that
 * differ. Read-only when shared (no `onState`: the saved view is shown as it was).
 */
import { useCallback, useMemo, useRef, type ReactNode } from "react";
import type { CompareResult } from "@/lib/compare/api";
import { pairedRecords, roundsRecords, tableRecords } from "@/lib/compare/export";
import { pairedComparisons } from "@/lib/compare/paired";
import { basesOf, type SparsityBasis } from "@/lib/sparsity";
import { aggregateSeries } from "@/lib/compare/series";
import { tableRows } from "@/lib/compare/tableOne";
import { toCsv } from "@/lib/csv";
import { COMPARE_METRICS, type CompareMetric, type CompareViewState } from "@/lib/viewState";
import Link from "next/link";
import { ProgressBar, StatusBadge } from "../StatusBadge";
import { AccuracyChart, BasisSelect } from "./AccuracyChart";
import { HowToRead } from "./HowToRead";
import { PairedTable } from "./PairedTable";
import { download, slug } from "./download";
import { LayerChart } from "./LayerChart";
import { METRICS } from "./metrics";
import { OutcomeBars } from "./OutcomeBars";
import { SettingsDiff } from "./SettingsDiff";
import { TableOne } from "./TableOne";
import { VerifyTimeChart } from "./VerifyTimeChart";

export function CompareView({ result, state, onState, title, toolbar, showBundles = false, basis = "scope", onBasis }: {
  result: CompareResult;
  state: CompareViewState;
  onState?: (next: CompareViewState) => void;
  /** What the chart's x axis counts (lib/sparsity), and how to change it (absent: fixed). */
  basis?: SparsityBasis;
  onBasis?: (basis: SparsityBasis) => void;
  title: string;
  toolbar?: ReactNode;
  showBundles?: boolean;
}) {
  const series = useMemo(() => aggregateSeries(result.runs), [result]);
  const rows = useMemo(() => tableRows(series), [series]);
  const paired = useMemo(() => pairedComparisons(series, result.runs), [series, result]);
  const bases = useMemo(() => basesOf(result.runs.flatMap((r) => r.rounds)), [result]);
  const bundles = useMemo(() => {
    if (!showBundles) return undefined;
    const map = new Map<string, { runId: string; round: number }>();
    for (const r of rows) {
      const s = series.find((x) => x.label === r.label)!;
      const run = result.runs.find((x) => s.runIds.includes(x.id) && x.rounds.some((k) => k.round === r.best.round));
      if (run) map.set(r.label, { runId: run.id, round: r.best.round });
    }
    return map;
  }, [showBundles, rows, series, result]);
  // Stable callbacks (reading the latest state), so that charts whose inputs did not change skip redrawing.
  const latest = useRef(state);
  latest.current = state;
  const setState = useCallback((patch: Partial<CompareViewState>) => onState?.({ ...latest.current, ...patch }), [onState]);
  const toggleSeries = useCallback((label: string) => {
    const hidden = latest.current.hidden;
    setState({ hidden: hidden.includes(label) ? hidden.filter((h) => h !== label) : [...hidden, label] });
  }, [setState]);
  const setLayer = useCallback((layer: string) => setState({ layer }), [setState]);
  const setOnlyDiff = useCallback((onlyDiff: boolean) => setState({ onlyDiff }), [setState]);
  const set = onState ? setState : undefined;
  const visibleRows = useMemo(() => rows.filter((r) => !state.hidden.includes(r.label)), [rows, state.hidden]);
  const file = slug(title);
  const datasets = [...new Set(result.runs.map((r) => r.config.data.dataset))];
  const regimes = [...new Set(result.runs.map((r) => r.config.training.regime))];

  const metricSelect = (
    <>
    <BasisSelect value={basis} onChange={onBasis} available={bases} />{" "}
    <label className="count">
      Metric{" "}
      <select className="inline-select" value={state.metric} disabled={!set} onChange={(e) => set?.({ metric: e.target.value as CompareMetric })} aria-label="Metric">
        {COMPARE_METRICS.map((m) => <option key={m} value={m}>{METRICS[m].title}</option>)}
      </select>
    </label>
    </>
  );

  return (
    <>
      {result.missing.length > 0 && (
        <div className="warning" role="status">
          {result.missing.length === 1 ? "One run" : `${result.missing.length} runs`} could not be found (deleted?): {result.missing.join(", ")}
        </div>
      )}
      <RunStrip result={result} linkRuns={showBundles} />
      <div className="toolbar">
        <span className="count" data-testid="compare-summary">
          {result.runs.length} run{result.runs.length === 1 ? "" : "s"} in {series.length} series · {datasets.join(", ")} · {regimes.join(", ")}
        </span>
        <span className="spacer" />
        <div className="export-bar" role="group" aria-label="Export results">
          <span className="count">Table I</span>
          <button type="button" className="secondary small" onClick={() => download(`${file}-table1.csv`, toCsv(tableRecords(rows)), "text/csv")}>CSV</button>
          <button type="button" className="secondary small" onClick={() => download(`${file}-table1.json`, JSON.stringify(tableRecords(rows), null, 2), "application/json")}>JSON</button>
          <span className="count">Per round</span>
          <button type="button" className="secondary small" onClick={() => download(`${file}-rounds.csv`, toCsv(roundsRecords(series)), "text/csv")}>CSV</button>
          <button type="button" className="secondary small" onClick={() => download(`${file}-rounds.json`, JSON.stringify({ runs: result.runs, series: roundsRecords(series) }, null, 2), "application/json")}>JSON</button>
          <span className="count">Paired tests</span>
          <button type="button" className="secondary small" data-testid="paired-csv" onClick={() => download(`${file}-paired.csv`, toCsv(pairedRecords(paired)), "text/csv")}>CSV</button>
          <button type="button" className="secondary small" onClick={() => download(`${file}-paired.json`, JSON.stringify(pairedRecords(paired), null, 2), "application/json")}>JSON</button>
        </div>
        {toolbar}
      </div>
      {series.length === 0 ? (
        <div className="panel empty">None of these runs exists any more.</div>
      ) : (
        <div className="compare-grid">
          <HowToRead samples={result.runs.map((r) => r.config.verification.samples)} seeds={series.map((s) => s.seeds.length)} />
          <AccuracyChart series={series} waiting={result.runs.some((r) => r.status === "running" || r.status === "queued")} metric={state.metric} hidden={state.hidden} onToggle={set && toggleSeries} controls={metricSelect} basis={bases.includes(basis) ? basis : "scope"} />
          <section className="panel wide" aria-labelledby="table-one-title" style={{ marginBottom: 0 }}>
            <h2 id="table-one-title">Best round per method (the paper&apos;s Table I)</h2>
            <TableOne rows={visibleRows} series={series} bundles={bundles} />
          </section>
          <section className="panel wide" aria-labelledby="paired-title" style={{ marginBottom: 0 }}>
            <h2 id="paired-title">Paired comparisons on the same samples</h2>
            <PairedTable rows={paired.filter((r) => !state.hidden.some((h) => r.a.startsWith(`${h} `) || r.b.startsWith(`${h} `)))} />
          </section>
          <OutcomeBars series={series} hidden={state.hidden} />
          <VerifyTimeChart series={series} hidden={state.hidden} />
          <LayerChart series={series} hidden={state.hidden} layer={state.layer} onLayer={set && setLayer} />
          <div className="wide">
            <SettingsDiff series={series} onlyDiff={state.onlyDiff} onToggle={set && setOnlyDiff} />
          </div>
        </div>
      )}
    </>
  );
}

/**
 * The compared runs with their status and progress: a sweep still running is watched from here.
 * Their links are not prefetched: twenty run pages rendered on the server on every load of
 * the comparison cost more than the page itself, for pages rarely opened from here.
 */
function RunStrip({ result, linkRuns }: { result: CompareResult; linkRuns: boolean }) {
  const active = result.runs.filter((r) => r.status === "running" || r.status === "queued").length;
  const chips = (
    <div className="run-strip">
      {result.runs.map((r) => (
        <div className="run-chip" key={r.id}>
          <StatusBadge status={r.status} />
          {linkRuns ? <Link href={`/runs/${r.id}`} prefetch={false}>{r.label}</Link> : <span>{r.label}</span>}
          <ProgressBar value={r.progress} label={`progress of ${r.label}`} />
        </div>
      ))}
    </div>
  );
  if (result.runs.length <= 12) return chips;
  return (
    <details className="panel">
      <summary>{result.runs.length} runs{active ? `, ${active} still running` : ""}</summary>
      {chips}
    </details>
  );
}
