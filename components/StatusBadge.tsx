import type { RunStatus } from "@/lib/protocol";

export function StatusBadge({ status }: { status: RunStatus | null }) {
  const s = status ?? "queued";
  return <span className={`badge ${s}`} data-testid="run-status">{s}</span>;
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const percent = Math.floor(Math.max(0, Math.min(1, value)) * 100); // 100 only when done
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
      <div style={{ width: `${percent}%` }} />
    </div>
  );
}
