"use client";
/**
 * The paper's Table I for the compared runs: for each method its best round (by verified
 * accuracy) with the remaining ratio, standard / adversarial / verified accuracy and the
 * time to verify a sample, each with its change against the dense network (round 0).
 */
import { memo } from "react";
import Link from "next/link";
import type { Series } from "@/lib/compare/series";
import type { TableRow } from "@/lib/compare/tableOne";
import { pct, pp, ratio, seconds, signedSeconds } from "@/lib/format";

function Delta({ value, seconds: isSeconds, better }: { value: number | null; seconds?: boolean; better: "up" | "down" }) {
  if (value == null) return null;
  const tone = Math.abs(value) < 1e-9 ? "flat" : (value > 0) === (better === "up") ? "up" : "down";
  return <span className={`delta ${tone}`}>{isSeconds ? signedSeconds(value) : pp(value)}</span>;
}

const withStd = (mean: number | undefined, std: number | undefined, n: number) =>
  mean === undefined ? "–" : `${pct(mean)}${n > 1 && std !== undefined ? ` ± ${(std * 100).toFixed(1)}` : ""}`;

/** `bundles` (researchers' view): benchmark downloads and links to the run pages; absent when shared. */
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
            <th scope="col" className="num" title="fraction of the prunable weights left">Remaining</th>
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
                <td className="num">{b.round}{s && s.points.length ? <span className="muted"> / {Math.max(...s.points.map((p) => p.round))}</span> : null}</td>
                <td className="num">{ratio(b.remainingRatio.mean)}</td>
                <td className="num">{pct(b.standardAccuracy.mean)}<Delta value={r.change.standard} better="up" /></td>
                <td className="num">{pct(b.adversarialAccuracy?.mean)}<Delta value={r.change.adversarial} better="up" /></td>
                <td className="num" data-testid="best-verified"><strong>{withStd(b.verifiedAccuracy?.mean, b.verifiedAccuracy?.std, b.n)}</strong><Delta value={r.change.verified} better="up" /></td>
                <td className="num">{seconds(b.meanVerifySeconds?.mean)}<Delta value={r.change.seconds} seconds better="down" /></td>
                {bundles && (
                  <td>{bundle ? <a href={`/runs/${bundle.runId}/bundle?round=${bundle.round}`} download>ONNX + VNNLIB</a> : <span className="muted">–</span>}</td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="caption muted" style={{ fontSize: "0.8rem" }}>
        Changes are against round 0 (the dense network) of the same method: percentage points for accuracies, seconds for time.
        {bundles ? <> The benchmark link downloads the best round as a VNN-COMP bundle (ONNX model, one VNNLIB property per sample).</> : null}
        {bundles ? <>{" "}Run pages: {series.map((s, i) => <span key={s.key}>{i ? ", " : ""}<Link href={`/runs/${s.runIds[0]}`} prefetch={false}>{s.label}</Link></span>)}</> : null}
      </p>
    </div>
  );
});
