"use client";
/**
 * Downloads: the results as CSV and JSON (built in the browser from the same view the
 * page draws, so they hold exactly its numbers), and a round as a VNN-COMP bundle
 * (model.onnx, one VNNLIB property per sample, instances.csv) exported by the engine.
 */
import { useState } from "react";
import { downloadBlob } from "@/components/charts/exportChart";
import type { RunConfig } from "@/lib/protocol";
import { resultsJson, roundsCsv, samplesCsv } from "@/lib/run/export";
import type { RunView } from "@/lib/run/fold";
import { RoundSelect, useRoundChoice } from "./RoundSelect";
import styles from "./run.module.css";

export function ExportPanel(props: {
  run: { id: string; label: string; config: RunConfig };
  view: RunView;
  /** Where a round's bundle is served; absent (e.g. on a shared link): no bundle download. */
  bundleHref?: (round: number) => string;
  ratios?: ReadonlyMap<number, number>;
}) {
  const { run, view, bundleHref, ratios } = props;
  const rounds = view.roundResults.map((r) => r.round);
  const [round, setRound] = useRoundChoice(rounds);
  const [bundle, setBundle] = useState<{ state: "idle" | "working" | "error"; message?: string }>({ state: "idle" });
  const noRounds = rounds.length === 0;

  const downloadBundle = async () => {
    if (!bundleHref || typeof round !== "number") return;
    setBundle({ state: "working" });
    try {
      const response = await fetch(bundleHref(round));
      if (!response.ok) throw new Error((await response.text()) || `the server answered ${response.status}`);
      const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? `${run.id}-round${round}-vnncomp.zip`;
      downloadBlob(name, await response.blob());
      setBundle({ state: "idle" });
    } catch (e) {
      setBundle({ state: "error", message: e instanceof Error ? e.message : String(e) });
    }
  };

  return (
    <div className={styles.exportPanel} data-testid="export-panel">
      <div>
        <h3>Results</h3>
        <p className="muted">Per round and per sample; fractions in [0, 1], times in seconds.</p>
        <div className="row">
          <button type="button" className="secondary" disabled={noRounds && view.samples.length === 0} onClick={() => downloadBlob(`${run.id}-rounds.csv`, roundsCsv(view), "text/csv")}>Rounds CSV</button>
          <button type="button" className="secondary" disabled={view.samples.length === 0} onClick={() => downloadBlob(`${run.id}-samples.csv`, samplesCsv(view), "text/csv")}>Samples CSV</button>
          <button type="button" className="secondary" disabled={noRounds && view.samples.length === 0} onClick={() => downloadBlob(`${run.id}-results.json`, resultsJson(view, run), "application/json")}>Results JSON</button>
        </div>
      </div>
      {bundleHref && (
        <div>
          <h3>VNN-COMP bundle</h3>
          <p className="muted">A round&apos;s network as ONNX, one VNNLIB property per verification sample, and instances.csv, zipped.</p>
          {run.config.verification.mode === "none" || run.config.verification.samples === 0 ? (
            <p className="muted">This run verifies no samples, so it has no properties to export.</p>
          ) : noRounds ? (
            <p className="muted">Available once a round has finished.</p>
          ) : (
            <div className="row">
              <RoundSelect label="Round" rounds={rounds} value={round} onChange={setRound} ratios={ratios} testId="bundle-round" />
              <button type="button" onClick={downloadBundle} disabled={bundle.state === "working"}>
                {bundle.state === "working" ? "Exporting…" : "Download bundle (.zip)"}
              </button>
            </div>
          )}
          {bundle.state === "error" && <div className="alert" role="alert">Could not export the bundle: {bundle.message}</div>}
        </div>
      )}
    </div>
  );
}
