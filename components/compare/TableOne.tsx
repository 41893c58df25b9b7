"use client";
/**
 * The paper's Table I for the compared runs: for each method its best round (the engine's:
 * the most verified samples, earliest on ties) with the remaining fraction of the pruned
 * layers and of all weights, standard / adversarial / verified accuracy with 95% intervals
 * and the time to verify a sample, each with its change against the dense network (round 0).
 */
import { memo } from "react";
import Link from "next/link";
import { intervalText } from "@/lib/accuracy";
import css from "./compare.module.css";
import type { Series, Stat } from "@/lib/compare/series";
import { remainingText, SPARSITY_LABELS } from "@/lib/sparsity";
import type { TableRow } from "@/lib/compare/tableOne";
import { pct, pp, seconds, signedSeconds } from "@/lib/format";

function Delta({ value, seconds: isSeconds, better }: { value: number | null; seconds?: boolean; better: "up" | "down" }) {
  if (value == null) return null;
  const tone = Math.abs(value) < 1e-9 ? "flat" : (value > 0) === (better === "up") ? "up" : "down";
  return <span className={`delta ${tone}`}>{isSeconds ? signedSeconds(value) : pp(value)}</span>;
}

/** An accuracy with its 95% interval (and the std across seeds when there are several). */
function Acc({ s, testId }: { s: Stat | null | undefined; testId?: string }) {
  if (!s || !Number.isFinite(s.mean)) return <>–</>;
  const kind = s.ciKind === "t"
    ? `95% interval of the mean over ${s.n} seeds (t)`
    : s.ciKind === "wilson" ? (s.n > 1 ? `95% Wilson interval of the mean count (wider than the t-interval over ${s.n} seeds)` : "95% Wilson interval of the count") : "no interval: the count is unknown";
  return (
    <>
      {pct(s.mean)}
      <span className={css.ci} data-testid={testId} title={kind}>{s.ci ? ` ${intervalText(s.ci)}` : " [n/a]"}</span>
      {s.n > 1 ? <span className="muted"> sd {(s.std * 100).toFixed(1)}</span> : null}
    </>
  );
}

/** `bundles` (researchers' view): benchmark downloads and links to the run pages; absent when shared. */
/** "not distinguishable from rounds 1, 2" (the engine's McNemar test), or that it was not recorded. */
function noiseText(rounds: number[] | null, best: number, decided: boolean): string {
  if (!decided) return "";
  if (rounds == null) return "within-noise rounds: not recorded";
  const others = rounds.filter((k) => k !== best);
  return others.length ? `not distinguishable from round${others.length > 1 ? "s" : ""} ${others.join(", ")}` : "distinguishable from every other round";
}

export const TableOne = memo(function TableOne({ rows, series, bundles }: { rows: TableRow[]; series: Series[]; bundles?: Map<string, { runId: string; round: number }> }) {
  if (rows.length === 0) return <div className="empty">No finished round yet: the table fills in as rounds finish.</div>;
  return (
    <div className="table-scroll">
      <table className="table-one" data-testid="table-one">
        <caption className="visually-hidden">Best round per method, with the change against the dense network</caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col" className="num">Seeds</th>
            <th scope="col" className="num">Best round</th>
            <th scope="col" className="num" title={SPARSITY_LABELS.scope.help}>Remaining {SPARSITY_LABELS.scope.short}</th>
            <th scope="col" className="num" title={SPARSITY_LABELS.all.help}>Remaining {SPARSITY_LABELS.all.short}</th>
            <th scope="col" className="num">Standard acc.</th>
            <th scope="col" className="num">Adversarial acc.</th>
            <th scope="col" className="num">Verified acc.</th>
            <th scope="col" className="num">Time / sample</th>
            {bundles && <th scope="col">Benchmark</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const b = r.best;
            const bundle = bundles?.get(r.label);
            const s = series.find((x) => x.label === r.label);
            return (
              <tr key={r.label} data-series={r.label}>
                <th scope="row">
                  <span className="swatch" style={{ background: r.color, width: 10, height: 10, borderRadius: 2, display: "inline-block", marginRight: 6 }} />
                  {r.label}
                </th>
                <td className="num">{r.seeds}</td>
                <td className="num" data-testid="best-round">
                  {r.bestMixed ? `${r.bestRounds.map((x) => x.round).join(", ")} (per seed)` : b.round}
                  {s && s.points.length ? <span className="muted"> of 0–{Math.max(...s.points.map((p) => p.round))}</span> : null}
                  {r.bestRounds.length === 0 ? <div className={css.note}>no best round decided: last round shown</div> : null}
                  {r.bestRounds.some((x) => x.source === "summary") ? <div className={css.note}>so far (still running)</div> : null}
                  <div className={css.note} data-testid="indistinguishable">{noiseText(r.indistinguishable, b.round, r.bestRounds.length > 0)}</div>
                </td>
                <td className="num" data-testid="remaining-scope">{remainingText(b.remainingRatio.mean)}</td>
                <td className="num" data-testid="remaining-all">{remainingText(b.remainingAll?.mean)}</td>
                <td className="num"><Acc s={b.standardAccuracy} /><Delta value={r.change.standard} better="up" /></td>
                <td className="num"><Acc s={b.adversarialAccuracy} /><Delta value={r.change.adversarial} better="up" /></td>
                <td className="num" data-testid="best-verified"><strong><Acc s={b.verifiedAccuracy} testId="best-verified-ci" /></strong><Delta value={r.change.verified} better="up" /></td>
                <td className="num">{seconds(b.meanVerifySeconds?.mean)}<Delta value={r.change.seconds} seconds better="down" /></td>
                {bundles && (
                  <td className="wrap">{bundle ? <a href={`/runs/${bundle.runId}/bundle?round=${bundle.round}`} download>ONNX + VNNLIB</a> : <span className="muted">–</span>}</td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="caption muted" style={{ fontSize: "0.8rem" }}>
        Best round: the engine&apos;s (the most verified samples; ties go to the earliest, least pruned round); with several seeds, each seed&apos;s own best round.
        Brackets are 95% intervals: Wilson of the count for one seed; for several, the wider of the t-interval of the mean and the Wilson interval of the mean count (hover for which).
        Changes are against round 0 (the dense network) of the same method: percentage points for accuracies, seconds for time.
        {bundles ? <> The benchmark link downloads the best round as a VNN-COMP bundle (ONNX model, one VNNLIB property per sample).</> : null}
        {bundles ? <>{" "}Run pages: {series.map((s, i) => <span key={s.key}>{i ? ", " : ""}<Link href={`/runs/${s.runIds[0]}`} prefetch={false}>{s.label}</Link></span>)}</> : null}
      </p>
    </div>
  );
});
