"use client";
/** How long the launch will take, estimated from the settings (lib/estimate.ts says how). */
import { formatEstimate, type Estimate } from "@/lib/estimate";
import { sentence } from "@/lib/format";

export function EstimatePanel({ estimate, total, runs }: { estimate: Estimate | null; total: number | null; runs: number }) {
  return (
    <section className="panel" aria-labelledby="estimate-title" data-testid="estimate" data-seconds={total === null ? "" : Math.round(total)}>
      <h2 id="estimate-title">Estimated time</h2>
      {!estimate || total === null ? (
        <p className="muted">Fix the settings to see an estimate.</p>
      ) : (
        <>
          <div className="stats estimate">
            <div className="stat total">
              <div className="value" data-testid="estimate-total">≈ {formatEstimate(total)}</div>
              <div className="name">{runs > 1 ? `all ${runs} runs, one engine at a time` : "the whole run"}</div>
            </div>
            <div className="stat">
              <div className="value">{formatEstimate(estimate.perRound)}</div>
              <div className="name">per round ({estimate.rounds} round{estimate.rounds === 1 ? "" : "s"}{runs > 1 ? ", first run" : ""})</div>
            </div>
          </div>
          <table style={{ marginTop: "0.6rem" }}>
            <caption className="muted" style={{ textAlign: "left", fontSize: "0.8rem" }}>{runs > 1 ? "the first run" : "the run"}, by part{estimate.rounds > 1 ? `, summed over its ${estimate.rounds} rounds` : ""}</caption>
            <tbody>
              <tr><td>starting the engine</td><td className="num">{formatEstimate(estimate.start)}</td></tr>
              <tr><td>training</td><td className="num">{formatEstimate(estimate.training)}</td></tr>
              <tr><td>test accuracy</td><td className="num">{formatEstimate(estimate.evaluation)}</td></tr>
              <tr><td>PGD attacks</td><td className="num">{formatEstimate(estimate.attack)}</td></tr>
              <tr><td>verification</td><td className="num">{formatEstimate(estimate.verification)}</td></tr>
            </tbody>
          </table>
          <p className="muted" style={{ fontSize: "0.8rem", marginBottom: 0 }}>
            An estimate from per-image costs measured on a 2-core CPU; a GPU trains much faster.
            {estimate.notes.map((n) => ` ${sentence(n)}`).join("")}
          </p>
        </>
      )}
    </section>
  );
}
