"use client";
/**
 * Paired comparisons on the same verification samples (lib/compare/paired): each method's
 * best round against its dense network, and the methods' best rounds against each other.
 * The difference in verified accuracy with its 95% interval and McNemar's exact p-value
 * (samples of all seeds pooled), and the tests across seeds; differences the data do not
 * support are marked "not significant".
 */
import { memo } from "react";
import type { PairedRow } from "@/lib/compare/paired";
import { ALPHA } from "@/lib/stats";
import css from "./compare.module.css";

const pp = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)}`;
export const pText = (p: number | null | undefined) => (p == null ? "–" : p < 0.0001 ? "< 0.0001" : p.toPrecision(2));

function Swatch({ color }: { color: string }) {
  return <span className="swatch" style={{ background: color, width: 10, height: 10, borderRadius: 2, display: "inline-block", marginRight: 6 }} />;
}

export const PairedTable = memo(function PairedTable({ rows }: { rows: PairedRow[] }) {
  if (rows.length === 0) return <div className="empty">Nothing to pair yet: paired tests need finished, verified rounds.</div>;
  return (
    <div className="table-scroll">
      <table className="table-one" data-testid="paired-table">
        <caption className="visually-hidden">Paired comparisons of verified accuracy on the same samples</caption>
        <thead>
          <tr>
            <th scope="col">A</th>
            <th scope="col">B</th>
            <th scope="col" className="num" title="seeds paired; samples paired over all seeds">Seeds · samples</th>
            <th scope="col" className="num" title="samples verified by A only / by B only">A only / B only</th>
            <th scope="col" className="num" title="verified accuracy of A minus B, percentage points, with its 95% interval">A − B (pp) [95% CI]</th>
            <th scope="col" className="num" title="McNemar's exact two-sided test on the discordant samples, all seeds pooled">McNemar p</th>
            <th scope="col" className="num" title="per-seed differences: exact sign test and paired t-test">Across seeds: sign p · t p</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.kind}:${r.a}:${r.b}`} data-kind={r.kind} data-significant={r.pooled ? String(!r.notSignificant) : "n/a"}>
              <th scope="row"><Swatch color={r.colorA} />{r.a}</th>
              <td><Swatch color={r.colorB} />{r.b}</td>
              {r.pooled ? (
                <>
                  <td className="num">{r.seeds.length} · {r.pooled.n}</td>
                  <td className="num">{r.pooled.onlyA} / {r.pooled.onlyB}</td>
                  <td className="num" data-testid="paired-diff">{pp(r.pooled.diff)} <span className={css.ci}>[{pp(r.pooled.ci.lo)}, {pp(r.pooled.ci.hi)}]</span></td>
                  <td className="num" data-testid="paired-p">
                    {pText(r.pooled.p)}
                    {r.notSignificant ? <span className={css.ns} data-testid="not-significant" title={`p ≥ ${ALPHA}: the data do not show a difference`}> not significant</span> : <span className={css.sig}>significant</span>}
                  </td>
                  <td className="num" data-testid="seed-p">
                    {r.acrossSeeds && r.acrossSeeds.n > 1 ? `${pText(r.acrossSeeds.signP)} · ${pText(r.acrossSeeds.tP)}` : <span className="muted">one seed: no test</span>}
                  </td>
                </>
              ) : (
                <td colSpan={5} className="muted">not paired: {r.reason}</td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="caption muted" style={{ fontSize: "0.8rem" }}>
        Each pair is compared sample by sample on the same verification images (per seed, then pooled). &quot;A only / B only&quot; are the samples one
        verified and the other did not; McNemar&apos;s exact test asks whether that split could be a coin toss. The interval is the Agresti-Min adjusted
        Wald interval of the paired difference. Across seeds, the exact sign test needs at least 6 seeds to reach p &lt; 0.05 even when every seed agrees.
      </p>
    </div>
  );
});
