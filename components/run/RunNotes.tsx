"use client";
/**
 * A run's name, tags and notes: shown to everyone who sees the run, edited by its owner
 * (runs.annotate; the server checks the owner and the lengths, and says which field is wrong).
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/lib/trpc/react";

const splitTags = (text: string) => text.split(/[,\n]+/).map((t) => t.trim()).filter(Boolean);

export function RunNotes({ runId, label, tags, notes, editable }: { runId: string; label: string; tags: string[]; notes: string; editable: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState({ name: label, tags: tags.join(", "), notes });
  const save = useMutation(
    trpc.runs.annotate.mutationOptions({
      onSuccess: (run) => {
        queryClient.setQueryData(trpc.runs.get.queryKey({ id: runId }), run);
        setEditing(false);
      },
    }),
  );
  const fieldErrors = (save.error?.data as { fieldErrors?: Record<string, string[]> } | undefined)?.fieldErrors ?? {};
  const errorOf = (field: string) => Object.entries(fieldErrors).filter(([p]) => p === field || p.startsWith(`${field}.`)).flatMap(([, m]) => m).join("; ");

  if (!editing) {
    return (
      <div className="run-notes" data-testid="run-notes">
        {tags.map((t) => <span key={t} className="tag" data-testid="run-tag">{t}</span>)}
        {notes ? <p className="notes-text" data-testid="run-notes-text">{notes}</p> : null}
        {editable && (
          <button type="button" className="link" onClick={() => { setDraft({ name: label, tags: tags.join(", "), notes }); setEditing(true); }} data-testid="edit-notes">
            {tags.length || notes ? "Edit name, tags and notes" : "Add a name, tags or notes"}
          </button>
        )}
      </div>
    );
  }
  return (
    <form
      className="form run-notes-form"
      aria-label="Name, tags and notes"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ id: runId, name: draft.name, tags: splitTags(draft.tags), notes: draft.notes });
      }}
    >
      <div className={`field${errorOf("name") ? " invalid" : ""}`}>
        <label htmlFor="run-name">Name</label>
        <input id="run-name" value={draft.name} maxLength={200} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
        {errorOf("name") && <span className="error" role="status" data-testid="error-name">{errorOf("name")}</span>}
      </div>
      <div className={`field${errorOf("tags") ? " invalid" : ""}`}>
        <label htmlFor="run-tags">Tags</label>
        <input id="run-tags" value={draft.tags} placeholder="baseline, lr-sweep" onChange={(e) => setDraft({ ...draft, tags: e.target.value })} />
        {errorOf("tags") ? <span className="error" role="status" data-testid="error-tags">{errorOf("tags")}</span> : <span className="help">Comma-separated; letters, digits and . _ : + -, at most 32 characters each. Search them as #tag on the runs page.</span>}
      </div>
      <div className={`field${errorOf("notes") ? " invalid" : ""}`} style={{ gridColumn: "1 / -1" }}>
        <label htmlFor="run-notes">Notes</label>
        <textarea id="run-notes" rows={3} value={draft.notes} onChange={(e) => setDraft({ ...draft, notes: e.target.value })} />
        {errorOf("notes") && <span className="error" role="status" data-testid="error-notes">{errorOf("notes")}</span>}
      </div>
      {save.error && !Object.keys(fieldErrors).length && <div className="alert" role="alert">{save.error.message}</div>}
      <div className="row">
        <button type="submit" disabled={save.isPending}>{save.isPending ? "Saving…" : "Save"}</button>
        <button type="button" className="secondary" onClick={() => setEditing(false)}>Cancel</button>
      </div>
    </form>
  );
}
