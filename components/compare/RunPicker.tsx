"use client";
/**
 * Choosing the runs to compare on the compare page itself (not only by ticking them on the
 * runs page). The URL stays the state: applying the choice navigates to /compare?runs=...
 * with the view's other settings kept.
 */
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { useTRPC } from "@/lib/trpc/react";
import { compareQuery, type CompareViewState } from "@/lib/viewState";

const MAX = 200;

export function RunPicker({ runIds, state, extra = "", open = false }: { runIds: string[]; state: CompareViewState; extra?: string; open?: boolean }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [expanded, setExpanded] = useState(open);
  const overview = useQuery({ ...trpc.results.overview.queryOptions(), enabled: expanded });
  const [chosen, setChosen] = useState<string[]>(runIds);
  const [filter, setFilter] = useState("");
  const rows = useMemo(() => {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    return (overview.data ?? []).filter((r) => words.every((w) => `${r.label} ${r.id} ${r.sweepId ?? ""} ${r.status}`.toLowerCase().includes(w)));
  }, [overview.data, filter]);
  const toggle = (id: string) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id].slice(0, MAX)));
  const changed = chosen.length !== runIds.length || chosen.some((id) => !runIds.includes(id));
  const apply = () => router.push(`/compare?${compareQuery(chosen, state)}${extra}`);

  return (
    <details className="panel" open={expanded} onToggle={(e) => setExpanded((e.target as HTMLDetailsElement).open)} data-testid="run-picker">
      <summary><strong>Choose runs</strong> <span className="muted">({runIds.length} in this comparison)</span></summary>
      <div className="toolbar">
        <input type="search" placeholder="Filter by method, id, sweep or status" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter runs" />
        <button type="button" className="secondary small" onClick={() => setChosen([...new Set([...chosen, ...rows.map((r) => r.id)])].slice(0, MAX))} disabled={rows.length === 0}>Select shown</button>
        <button type="button" className="secondary small" onClick={() => setChosen([])} disabled={chosen.length === 0}>Clear</button>
        <span className="spacer" />
        <span className="count">{chosen.length} chosen</span>
        <button type="button" onClick={apply} disabled={!changed || chosen.length === 0} data-testid="run-picker-apply">Compare these</button>
      </div>
      {overview.isPending ? (
        <div className="empty">Loading runs…</div>
      ) : overview.isError ? (
        <div className="alert" role="alert">Could not list the runs: {overview.error.message}</div>
      ) : (
        <div className="table-scroll" style={{ maxHeight: 280, overflowY: "auto" }}>
          <table>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>
                    <label>
                      <input type="checkbox" checked={chosen.includes(r.id)} onChange={() => toggle(r.id)} aria-label={`compare ${r.label} ${r.id}`} />{" "}
                      {r.label}
                    </label>
                  </td>
                  <td className="muted">{r.id}</td>
                  <td className="muted">{r.sweepId ?? ""}</td>
                  <td className="muted">{r.status}</td>
                </tr>
              ))}
              {rows.length === 0 && <tr><td className="muted">No run matches.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
    </details>
  );
}
