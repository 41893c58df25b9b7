"use client";
/**
 * The model inspector: what a round's exported ONNX file holds, counted by the server from
 * the file itself (server/models/onnxReader), next to what the engine reported, with the
 * round's independent audit and a download of the file.
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { AuditSummary } from "@/components/audit/AuditSummary";
import { ChartFrame } from "@/components/charts/ChartFrame";
import { pct, sentence } from "@/lib/format";
import { remainingLabel, SPARSITY_LABELS } from "@/lib/sparsity";
import { useTRPC } from "@/lib/trpc/react";
import styles from "./inspect.module.css";

const n = (x: number) => x.toLocaleString("en");
const shape = (s: (number | string | null)[] | null | undefined) => (s ? `[${s.map((d) => d ?? "?").join(", ")}]` : "unknown");
const bytes = (b: number) => (b < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 / 1024).toFixed(2)} MiB`);

type EngineLayer = { name: string; weights: number; remainingWeights: number; channels: number; remainingChannels: number };

/** How the file's counts compare with the engine's: equal, or shrunk (channels physically removed), or different. */
function comparison(layer: EngineLayer & { kind: string }, engine: EngineLayer | undefined): { ok: boolean; text: string } {
  if (!engine) return { ok: false, text: "not in the engine's report" };
  if (layer.remainingWeights !== engine.remainingWeights || layer.remainingChannels !== engine.remainingChannels) {
    return { ok: false, text: `engine: ${n(engine.remainingWeights)} weights, ${engine.remainingChannels} channels left` };
  }
  if (layer.weights === engine.weights && layer.channels === engine.channels) return { ok: true, text: "matches" };
  return { ok: true, text: `matches (shrunk from ${n(engine.weights)} weights, ${engine.channels} channels)` };
}

/**
 * `token`: opened from a share link (read-only, anonymous): the model, its audit and its
 * download are read through the link, and its links stay under /share/<token>.
 */
export function ModelInspector({ runId, round, token, sharedComparison }: { runId: string; round: number; token?: string; sharedComparison?: boolean }) {
  const trpc = useTRPC();
  const query = useQuery({ ...trpc.models.inspect.queryOptions({ runId, round, token }), retry: token ? false : undefined });
  const base = token ? `/share/${encodeURIComponent(token)}` : `/runs/${runId}`;
  // A shared comparison names several runs: its inspector links say which one.
  const roundHref = (k: number) => `${base}/inspect?round=${k}${sharedComparison ? `&run=${runId}` : ""}`;
  const download = `/api/models/download?runId=${runId}&round=${round}${token ? `&token=${encodeURIComponent(token)}` : ""}`;
  if (query.isPending) return <div className="empty">Reading round {round}&rsquo;s model…</div>;
  if (query.isError) {
    return (
      <div className="alert" role="alert" data-testid="inspect-error" data-code={query.error.data?.code}>
        {sentence(query.error.message)}
      </div>
    );
  }
  const { inspection: m, engineLayers, rounds, label } = query.data;
  const engineSparsity = (query.data as { engineSparsity?: Parameters<typeof remainingLabel>[0] | null }).engineSparsity ?? null;
  const engineByName = new Map((engineLayers ?? []).map((l) => [l.name, l]));
  const compared = m.layers.map((l) => ({ ...l, check: engineLayers ? comparison(l, engineByName.get(l.name)) : null }));
  const mismatches = compared.filter((l) => l.check && !l.check.ok).length;
  const chart = m.layers.map((l) => ({ name: l.name, sparsity: +(100 * l.sparsity).toFixed(2), remaining: +(100 * (1 - l.sparsity)).toFixed(2) }));
  return (
    <div data-testid="model-inspector" data-round={round}>
      <div className={styles.head}>
        <span>
          <Link href={sharedComparison ? base : `${base}?round=${round}`} data-testid="inspect-run-link">{label}</Link> <span className="muted">{runId}</span>
        </span>
        <nav className={styles.rounds} aria-label="Round">
          <span className="muted">round</span>
          {rounds.map((k) => (
            <Link key={k} href={roundHref(k)} aria-current={k === round ? "page" : undefined}>{k}</Link>
          ))}
        </nav>
        <span className="spacer" />
        <a className="button" href={download} download data-testid="download-onnx">
          Download model.onnx ({bytes(m.bytes)})
        </a>
      </div>
      <AuditSummary runId={runId} round={round} token={token} />
      <div className={styles.stats}>
        <div className="stat"><div className="name">input</div><div className={styles.mono}>{m.input?.name} {shape(m.input?.shape)}</div></div>
        <div className="stat"><div className="name">output</div><div className={styles.mono}>{m.output?.name} {shape(m.output?.shape)}</div></div>
        <div className="stat"><div className="name">parameters</div><div data-testid="total-parameters">{n(m.totals.parameters)}</div></div>
        <div className="stat" title={SPARSITY_LABELS.all.help}>
          <div className="name">remaining {SPARSITY_LABELS.all.short} (in the file)</div>
          <div data-testid="total-remaining">{m.totals.weights ? `${((100 * m.totals.remainingWeights) / m.totals.weights).toPrecision(3)}%` : "–"} <span className="muted">({n(m.totals.remainingWeights)} / {n(m.totals.weights)})</span></div>
        </div>
        <div className="stat"><div className="name">sparsity (zero weights, {SPARSITY_LABELS.all.short})</div><div data-testid="total-sparsity">{pct(m.totals.sparsity)}</div></div>
        {engineSparsity && (
          <div className="stat" title={`${SPARSITY_LABELS.scope.help} The run page, charts and Table I show both.`}>
            <div className="name">engine reported</div>
            <div data-testid="engine-sparsity">{remainingLabel(engineSparsity, "scope")}; {remainingLabel(engineSparsity, "all")}</div>
          </div>
        )}
        <div className="stat"><div className="name">format</div><div>ONNX IR {m.irVersion}, opset {m.opset ?? "?"}{m.producer ? `, by ${m.producer}` : ""}</div></div>
      </div>
      {engineLayers && (
        <p className={mismatches ? styles.mismatch : styles.match} data-testid="engine-agreement">
          {mismatches
            ? `${mismatches} layer(s) differ from what the engine reported for this round`
            : `Every layer's counts, read from the file, match what the engine reported for round ${round}.`}
        </p>
      )}
      <div className={`table-scroll ${styles.layers}`}>
        <table data-testid="layer-table">
          <thead>
            <tr>
              <th>layer</th><th>operator</th><th>weight shape</th><th className="num">parameters</th>
              <th className="num">weights left</th><th className="num" title="zero weights of this layer">sparsity</th><th className="num">channels left</th>
              {engineLayers && <th>engine</th>}
            </tr>
          </thead>
          <tbody>
            {compared.map((l) => (
              <tr key={l.name} data-layer={l.name}>
                <td>{l.name}</td>
                <td>{l.op} <span className="muted">{l.node}</span></td>
                <td className={styles.mono}>{shape(l.weightShape)}{l.biasShape ? ` + bias ${shape(l.biasShape)}` : ""}</td>
                <td className="num">{n(l.parameters)}</td>
                <td className="num">{n(l.remainingWeights)} / {n(l.weights)}</td>
                <td className="num">{pct(l.sparsity)}</td>
                <td className="num">{l.remainingChannels} / {l.channels}</td>
                {l.check && <td className={l.check.ok ? styles.match : styles.mismatch}>{l.check.text}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ChartFrame title="Sparsity per layer" filename={`${runId}-round-${round}-sparsity`} testId="sparsity-chart" empty={chart.length ? null : "This model has no layers with weights."}
        legend={[{ label: "zero weights (%)", color: "#d2453b" }, { label: "remaining (%)", color: "#2f6fde" }]}>
        <ResponsiveContainer width="100%" height={Math.max(160, 40 * chart.length + 60)}>
          <BarChart data={chart} layout="vertical" margin={{ top: 4, right: 24, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" horizontal={false} />
            <XAxis type="number" domain={[0, 100]} unit="%" />
            <YAxis type="category" dataKey="name" width={60} />
            <Tooltip formatter={(v) => `${v}%`} />
            <Bar dataKey="sparsity" stackId="w" fill="#d2453b" name="zero weights" isAnimationActive={false} />
            <Bar dataKey="remaining" stackId="w" fill="#2f6fde" name="remaining" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </ChartFrame>
      <details>
        <summary>{m.operators.length} operators in the graph</summary>
        <div className={styles.ops}>
          {m.operators.map((o) => (
            <span key={o.index} title={o.name} className={m.unsupported.some((u) => u.includes(`node ${o.index}`)) ? styles.bad : undefined}>{o.op}</span>
          ))}
        </div>
      </details>
    </div>
  );
}
