"use client";
/** The compared series' settings side by side; by default only those that differ. */
import { memo } from "react";
import type { Series } from "@/lib/compare/series";
import { settingsTable } from "@/lib/compare/settings";

export const SettingsDiff = memo(function SettingsDiff({ series, onlyDiff, onToggle }: { series: Series[]; onlyDiff: boolean; onToggle?: (onlyDiff: boolean) => void }) {
  const rows = settingsTable(series.map((s) => s.config)).filter((r) => r.path !== "seed");
  const seedsDiffer = new Set(series.map((s) => s.seeds.join(","))).size > 1;
  const shown = onlyDiff ? rows.filter((r) => r.differs) : rows;
  return (
    <section className="panel" aria-labelledby="settings-title" data-testid="settings-diff" data-rows={shown.length}>
      <div className="row">
        <h2 id="settings-title" style={{ margin: 0 }}>Settings</h2>
        <label className="count" style={{ display: "inline-flex", gap: 6, alignItems: "center" }}>
          <input type="checkbox" checked={onlyDiff} onChange={(e) => onToggle?.(e.target.checked)} disabled={!onToggle} />
          Show only differing settings
        </label>
        <span className="count">{rows.filter((r) => r.differs).length} of {rows.length} settings differ</span>
      </div>
      <div className="table-scroll">
        <table className="settings">
          <thead>
            <tr>
              <th scope="col">Setting</th>
              {series.map((s) => (
                <th scope="col" key={s.key}>
                  <span className="swatch" style={{ background: s.color, width: 10, height: 10, borderRadius: 2, display: "inline-block", marginRight: 6 }} />
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr className={seedsDiffer ? "differs" : ""}>
              <td>seed</td>
              {series.map((s) => <td key={s.key}>{s.seeds.join(", ")}</td>)}
            </tr>
            {shown.map((r) => (
              <tr key={r.path} className={r.differs ? "differs" : ""}>
                <td>{r.path}</td>
                {r.values.map((v, i) => <td key={series[i].key}>{v}</td>)}
              </tr>
            ))}
            {shown.length === 0 && (
              <tr><td colSpan={series.length + 1} className="muted">These runs differ only in their seeds.</td></tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
});
