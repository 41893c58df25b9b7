"use client";
/**
 * Per-layer sparsity of a finished round: remaining weights and channels, layer by layer,
 * under the round's totals, each labelled with what it counts (lib/sparsity).
 */
import { pct } from "@/lib/format";
import { remainingLabel, shareOf } from "@/lib/sparsity";
import type { RoundFinished } from "@/lib/run/fold";
import { RoundSelect, useRoundChoice, type RoundControl } from "./RoundSelect";
import styles from "./run.module.css";

/** `round`: the page's selected round (absent: the table chooses its own). */
export function SparsityTable({ results, ratios, round: control }: { results: RoundFinished[]; ratios?: ReadonlyMap<number, number>; round?: RoundControl }) {
  const rounds = results.map((r) => r.round);
  const [round, setRound] = useRoundChoice(rounds, null, control);
  const current = results.find((r) => r.round === round);
  if (!current) return <div className="empty">Waiting for round 0 (the dense network) to finish…</div>;
  const total = current.layers.reduce((a, l) => a + l.weights, 0);
  const left = current.layers.reduce((a, l) => a + l.remainingWeights, 0);
  return (
    <div data-testid="sparsity-section" data-round={current.round}>
      <div className={styles.sectionControls}>
        <RoundSelect label="Round" rounds={rounds} value={round} onChange={setRound} ratios={ratios} testId="sparsity-round" />
        <span className="muted">{left.toLocaleString("en")} of {total.toLocaleString("en")} weights left in these layers</span>
      </div>
      <p className="muted" data-testid="sparsity-totals">
        Remaining: <strong>{remainingLabel(current, "scope")}</strong>
        {shareOf(current, "scope") ? ` (${shareOf(current, "scope")!.remaining.toLocaleString("en")} / ${shareOf(current, "scope")!.total.toLocaleString("en")})` : ""}
        {" · "}<strong>{remainingLabel(current, "all")}</strong>
        {shareOf(current, "all") ? ` (${shareOf(current, "all")!.remaining.toLocaleString("en")} / ${shareOf(current, "all")!.total.toLocaleString("en")})` : ""}
        {shareOf(current, "channels") ? <>{" · "}<strong>{remainingLabel(current, "channels")}</strong></> : null}
      </p>
      <div className={styles.tableScroll}>
        <table data-testid="sparsity-table">
          <thead>
            <tr>
              <th>layer</th><th>kind</th><th className="num">weights left</th><th className={styles.barCol}>remaining</th>
              <th className="num">channels left</th>
            </tr>
          </thead>
          <tbody>
            {current.layers.map((l) => {
              const fraction = l.weights ? l.remainingWeights / l.weights : 0;
              return (
                <tr key={l.name}>
                  <td>{l.name}</td>
                  <td>{l.kind}</td>
                  <td className="num">{l.remainingWeights.toLocaleString("en")} / {l.weights.toLocaleString("en")}</td>
                  <td className={styles.barCol}>
                    <span className={styles.bar} role="img" aria-label={`${pct(fraction)} of ${l.name}'s weights remain`}>
                      <span style={{ width: `${fraction * 100}%` }} />
                    </span>
                    <span className={styles.barText}>{pct(fraction)}</span>
                  </td>
                  <td className="num">{l.remainingChannels} / {l.channels}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
