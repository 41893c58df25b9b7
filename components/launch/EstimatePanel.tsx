"use client";
/** How long the launch will take, estimated from the settings (lib/estimate.ts says how). */
import { formatEstimate, type Estimate } from "@/lib/estimate";
import { sentence } from "@/lib/format";

/** What runs ahead of a new run (queue.forLaunch). */
export interface QueueAhead {
  runsAhead: number;
  startsInSeconds: number;
  slots: number;
  calibration: { runs: number };
}

export function EstimatePanel({ estimate, total, runs, queue }: { estimate: Estimate | null; total: number | null; runs: number; queue?: QueueAhead | null }) {
  const wait = queue?.startsInSeconds ?? 0;
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
            <div className="stat" data-testid="estimate-queue" data-wait={Math.round(wait)}>
              <div className="value">{queue ? (queue.runsAhead === 0 ? "starts now" : `≈ ${formatEstimate(wait)} wait`) : "…"}</div>
              <div className="name">
                {queue ? (queue.runsAhead === 0 ? "nothing ahead in the queue" : `${queue.runsAhead} run${queue.runsAhead === 1 ? "" : "s"} ahead (running or queued)`) : "reading the queue"}
              </div>
            </div>
            <div className="stat total" data-testid="estimate-done">
              <div className="value">≈ {formatEstimate(wait + total)}</div>
              <div className="name">until {runs > 1 ? "all are" : "it is"} done, queue included</div>
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
              <tr><td>PGD attacks and other per-round work</td><td className="num">{formatEstimate(estimate.attack)}</td></tr>
              <tr><td>verification</td><td className="num">{formatEstimate(estimate.verification)}</td></tr>
            </tbody>
          </table>
          <p className="muted" style={{ fontSize: "0.8rem", marginBottom: 0 }}>
            {queue && queue.calibration.runs > 0
              ? `Calibrated on ${queue.calibration.runs} finished run${queue.calibration.runs === 1 ? "" : "s"} of this machine (their measured seconds per epoch and per verified sample).`
              : "An estimate from per-image costs measured on a 2-core CPU (no finished run here yet to calibrate it on); a GPU trains much faster."}
            {estimate.notes.map((n) => ` ${sentence(n)}`).join("")}
          </p>
        </>
      )}
    </section>
  );
}
