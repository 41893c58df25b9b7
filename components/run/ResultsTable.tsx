"use client";
/** One row per finished round: the numbers behind every curve, best round marked. */
import { num, pct, secs } from "@/lib/format";
import type { RunView } from "@/lib/run/fold";
import { bestRound, roundRows } from "@/lib/run/selectors";
import styles from "./run.module.css";

const ratio = (x: number) => `${(x * 100).toPrecision(3)}%`;

export function ResultsTable({ view, runningRound }: { view: RunView; runningRound: number | null }) {
  const rows = roundRows(view);
  const best = bestRound(view)?.round ?? null;
  if (rows.length === 0) {
    return <div className="empty">Waiting for round 0 (the dense network) to finish{runningRound != null ? "…" : "."}</div>;
  }
  return (
    <div className={styles.tableScroll}>
      <table data-testid="results-table" className={styles.results}>
        <thead>
          <tr>
            <th className="num">round</th>
            <th className="num" title="remaining weights of the prunable layers">remaining</th>
            <th className="num" title="remaining convolution channels / all">channels</th>
            <th className="num">standard acc.</th>
            <th className="num" title="accuracy under the PGD attack">PGD acc.</th>
            <th className="num">verified acc.</th>
            <th className="num" title="samples proven robust">verified</th>
            <th className="num" title="samples with an adversarial example">falsified</th>
            <th className="num" title="undecided before the timeout">unknown</th>
            <th className="num" title="wrong on the clean image">miscl.</th>
            <th className="num" title="mean verification time per sample">mean verify time</th>
            <th className="num" title="unstable ReLUs under IBP bounds at the verification ε">unstable</th>
            <th className="num" title="Σ −l·u over unstable ReLUs">instability</th>
            <th className="num" title="wall-clock time of the round">round time</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.round} data-round={r.round} className={r.round === best ? styles.best : undefined}>
              <td className="num">{r.round}{r.round === best ? <span title="best verified accuracy" aria-label="best round"> ★</span> : null}</td>
              <td className="num" data-col="remainingRatio">{ratio(r.remainingRatio)}</td>
              <td className="num" data-col="channels">{r.channels ? `${r.remainingChannels} / ${r.channels}` : "–"}</td>
              <td className="num" data-col="standardAccuracy">{pct(r.standardAccuracy)}</td>
              <td className="num" data-col="adversarialAccuracy">{pct(r.adversarialAccuracy)}</td>
              <td className="num" data-col="verifiedAccuracy"><strong>{pct(r.verifiedAccuracy)}</strong></td>
              <td className="num" data-col="verified">{r.verified}</td>
              <td className="num" data-col="falsified">{r.falsified}</td>
              <td className="num" data-col="unknown">{r.unknown}</td>
              <td className="num" data-col="misclassified">{r.misclassified}</td>
              <td className="num" data-col="meanVerifySeconds">{secs(r.meanVerifySeconds)}</td>
              <td className="num" data-col="unstableRatio">{pct(r.unstableRatio)}</td>
              <td className="num" data-col="instability">{num(r.instability, 3)}</td>
              <td className="num" data-col="seconds">{secs(r.seconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
