"use client";
/**
 * One row per finished round: the numbers behind every curve, each accuracy with its 95%
 * interval, the remaining fraction of the pruned layers and of all weights, and the
 * engine's best round marked (with the rounds it could not tell apart from it).
 */
import { intervalText } from "@/lib/accuracy";
import { num, pct, secs } from "@/lib/format";
import type { RunView } from "@/lib/run/fold";
import { bestRoundInfo, roundRows } from "@/lib/run/selectors";
import { remainingText, SPARSITY_LABELS } from "@/lib/sparsity";
import styles from "./run.module.css";

const ratio = (x: number) => `${(x * 100).toPrecision(3)}%`;

export function ResultsTable({ view, runningRound }: { view: RunView; runningRound: number | null }) {
  const rows = roundRows(view);
  const info = bestRoundInfo(view);
  const best = info?.round ?? null;
  const ci = (lo: number | null, hi: number | null) => (lo == null || hi == null ? "–" : intervalText({ lo, hi }));
  if (rows.length === 0) {
    return <div className="empty">Waiting for round 0 (the dense network) to finish{runningRound != null ? "…" : "."}</div>;
  }
  return (
    <div className={styles.tableScroll}>
      <table data-testid="results-table" className={styles.results}>
        <thead>
          <tr>
            <th className="num">round</th>
            <th className="num" title={SPARSITY_LABELS.scope.help}>remaining {SPARSITY_LABELS.scope.short}</th>
            <th className="num" title={SPARSITY_LABELS.all.help}>remaining {SPARSITY_LABELS.all.short}</th>
            <th className="num" title="remaining convolution channels / all">channels</th>
            <th className="num">standard acc.</th>
            <th className="num" title={`95% Wilson interval over the ${rows[0].evaluationImages ?? "?"} evaluation images`}>95% CI</th>
            <th className="num" title="accuracy under the PGD attack">PGD acc.</th>
            <th className="num" title={`95% Wilson interval over the ${rows[0].evaluationImages ?? "?"} evaluation images`}>95% CI</th>
            <th className="num">verified acc.</th>
            <th className="num" title="95% Wilson interval over the verification samples">95% CI</th>
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
              <td className="num">{r.round}{r.round === best ? <span title={info?.source === "engine" ? "best round (the engine's: most verified samples, earliest on ties)" : "best so far (the run has not finished)"} aria-label="best round"> ★</span> : null}</td>
              <td className="num" data-col="remainingRatio">{ratio(r.remainingRatio)}</td>
              <td className="num" data-col="remainingOfAllWeights">{remainingText(r.remainingOfAllWeights)}</td>
              <td className="num" data-col="channels">{r.channels ? `${r.remainingChannels} / ${r.channels}` : "–"}</td>
              <td className="num" data-col="standardAccuracy">{pct(r.standardAccuracy)}</td>
              <td className="num muted" data-col="standardCi">{ci(r.standardLo, r.standardHi)}</td>
              <td className="num" data-col="adversarialAccuracy">{pct(r.adversarialAccuracy)}</td>
              <td className="num muted" data-col="adversarialCi">{ci(r.adversarialLo, r.adversarialHi)}</td>
              <td className="num" data-col="verifiedAccuracy"><strong>{pct(r.verifiedAccuracy)}</strong></td>
              <td className="num muted" data-col="verifiedCi">{ci(r.verifiedLo, r.verifiedHi)}</td>
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
      {info && (
        <p className="muted" data-testid="best-round-note">
          ★ Round {info.round}: {info.source === "engine" ? <span title={info.rule ?? undefined}>the engine&apos;s best round</span> : "best so far (the engine decides when the run finishes)"}.{" "}
          {info.source !== "engine" ? "" : info.indistinguishable == null
            ? "Rounds within noise of it: not recorded by this run's engine."
            : info.indistinguishable.filter((k) => k !== info.round).length
              ? `Not distinguishable from round${info.indistinguishable.filter((k) => k !== info.round).length > 1 ? "s" : ""} ${info.indistinguishable.filter((k) => k !== info.round).join(", ")} (paired McNemar test on the same samples, p ≥ 0.05).`
              : rows.filter((r) => r.verifiedAccuracy != null).length < 2
                ? "It is the only verified round, so there is nothing to compare it with."
                : "Every other round differs significantly from it (paired McNemar test, p < 0.05)."}
          {" "}Intervals are 95% Wilson intervals of the counts.
        </p>
      )}
    </div>
  );
}
