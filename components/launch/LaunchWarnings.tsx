"use client";
/** Warnings shown before launching a run whose result cannot answer the question (lib/launchWarnings). */
import { launchWarnings } from "@/lib/launchWarnings";
import type { RunConfigInput } from "@/lib/protocol";

export function LaunchWarnings({ config, seeds, methods }: { config: RunConfigInput | null; seeds: number; methods: number }) {
  const warnings = launchWarnings({ config, seeds, methods });
  if (warnings.length === 0) return null;
  return (
    <div className="warning" role="status" data-testid="launch-warnings" style={{ marginTop: "0.75rem" }}>
      <strong>Before you launch:</strong>
      <ul style={{ margin: "0.25rem 0 0", paddingLeft: "1.1rem" }}>
        {warnings.map((w) => <li key={w.code} data-code={w.code}>{w.text}</li>)}
      </ul>
    </div>
  );
}
