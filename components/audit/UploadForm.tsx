"use client";
/**
 * Bring your own model: an ONNX file, the dataset it was trained on, eps and the number
 * of test images to verify. Posts a multipart form to /api/models/upload, then opens the
 * new run. The server checks the file (and says what is wrong with it); this form only
 * refuses files over the size limit before sending them.
 */
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { DATASET_INPUTS, shapeText } from "@/lib/datasets";
import { DATASETS } from "@/lib/protocol/names";
import { formatSize, sentence } from "@/lib/format";
import styles from "./audit.module.css";

type FieldErrors = Record<string, string[]>;

function Field({ name, label, help, errors, children }: { name: string; label: string; help: string; errors: FieldErrors; children: React.ReactNode }) {
  const problems = errors[name];
  return (
    <div className={`field${problems ? " invalid" : ""}`}>
      <label htmlFor={`upload-${name}`}>{label}</label>
      {children}
      {problems ? <span className="error" role="alert">{problems.join("; ")}</span> : <span className="help">{help}</span>}
    </div>
  );
}

export function UploadForm({ maxBytes }: { maxBytes: number }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const file = form.get("model");
    setError(null);
    setFieldErrors({});
    if (!(file instanceof File) || file.size === 0) return setFieldErrors({ model: ["choose an ONNX file"] });
    if (file.size > maxBytes) {
      setError(`the file ${file.name} is ${formatSize(file.size)}; uploads are limited to ${formatSize(maxBytes)}`);
      return setFieldErrors({ model: ["file too large"] });
    }
    setBusy(true);
    try {
      const res = await fetch("/api/models/upload", { method: "POST", body: form });
      const body = await res.json().catch(() => ({ error: `the server answered ${res.status}` }));
      if (!res.ok) {
        setError(body.error ?? `upload failed (${res.status})`);
        setFieldErrors(body.fieldErrors ?? {});
        return;
      }
      router.push(body.path);
    } catch (e) {
      setError(`could not reach the server: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className={`panel form ${styles.upload}`} onSubmit={submit} aria-label="Upload a model" noValidate>
      {error && <div className="alert" role="alert" data-testid="upload-error" style={{ gridColumn: "1 / -1" }}>{sentence(error)}</div>}
      <Field name="model" label="ONNX model" help={`input (N, C, H, W) in [0, 1], one logit per class; Conv, Gemm, MatMul, ReLU, … up to ${formatSize(maxBytes)}`} errors={fieldErrors}>
        <input id="upload-model" name="model" type="file" accept=".onnx,application/octet-stream" />
      </Field>
      <Field name="dataset" label="Dataset" help="the test images to verify on: the model must take exactly their shape (channels x height x width)" errors={fieldErrors}>
        <select id="upload-dataset" name="dataset" defaultValue="fashion-mnist">
          {DATASETS.map((d) => <option key={d} value={d}>{d} ({shapeText(DATASET_INPUTS[d].shape)}, {DATASET_INPUTS[d].classes} classes)</option>)}
        </select>
      </Field>
      <Field name="eps" label="Epsilon" help="L∞ radius in [0, 1] pixel space; empty: the dataset's default" errors={fieldErrors}>
        <input id="upload-eps" name="eps" type="number" step="any" min={0} max={1} placeholder="dataset default" />
      </Field>
      <Field name="samples" label="Samples" help="verify the first N test images" errors={fieldErrors}>
        <input id="upload-samples" name="samples" type="number" min={1} max={10000} defaultValue={100} />
      </Field>
      <Field name="mode" label="Verifier" help="complete branch and bound, or an incomplete bound (faster)" errors={fieldErrors}>
        <select id="upload-mode" name="mode" defaultValue="bab">
          <option value="bab">branch and bound (complete)</option>
          <option value="alpha-crown">alpha-CROWN</option>
          <option value="crown">CROWN</option>
        </select>
      </Field>
      <Field name="timeout" label="Timeout per sample (s)" help="a sample still undecided then is 'unknown'" errors={fieldErrors}>
        <input id="upload-timeout" name="timeout" type="number" min={1} max={3600} defaultValue={60} />
      </Field>
      <div className={styles.actions}>
        <button type="submit" disabled={busy}>{busy ? "Uploading…" : "Upload and verify"}</button>
        <span className="muted">The result appears as a run, with an independent audit of every claim.</span>
      </div>
    </form>
  );
}
