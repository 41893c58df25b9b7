/**
 * POST /api/models/upload (multipart form): a researcher's own ONNX model to verify.
 * Fields: model (the file), dataset, eps (empty: the dataset's), samples, mode, timeout.
 * Answers 201 {runId, path} or {error, fieldErrors} with 400 (bad file or settings),
 * 401 (not signed in), 403 (sent from another site's page: server/http/origin.ts) or 413 (too large; refused before the body is read when declared).
 */
import { formatSize } from "@/lib/format";
import { sessionTokenFrom } from "@/server/auth/cookie";
import { crossSiteRefusal } from "@/server/http/origin";
import { readBounded } from "@/server/http/readBounded";
import { acceptUpload, maxUploadBytes, UploadError } from "@/server/models/upload";
import { getServices } from "@/server/services";

export const dynamic = "force-dynamic";

/** Room for the form's other fields and multipart boundaries around the file. */
const FORM_OVERHEAD = 64 * 1024;

const answer = (status: number, body: object) => Response.json(body, { status });

const number = (value: FormDataEntryValue | null) => (value === null || String(value).trim() === "" ? null : Number(value));

export async function POST(req: Request) {
  const services = getServices();
  // A multipart form is a "simple" request: browsers send it cross-site without asking first.
  const crossSite = crossSiteRefusal(req, services.settings.allowedOrigins);
  if (crossSite) return answer(403, { error: crossSite });
  const user = services.accounts.userForSession(sessionTokenFrom(req.headers));
  if (!user) return answer(401, { error: "sign in first: uploading a model needs a researcher account" });
  const limit = maxUploadBytes();
  const tooLarge = () => answer(413, { error: `the upload is larger than the ${formatSize(limit)} limit for models (CERTPRUNE_MAX_UPLOAD_BYTES)`, fieldErrors: { model: ["file too large"] } });
  if (Number(req.headers.get("content-length") ?? 0) > limit + FORM_OVERHEAD) return tooLarge();
  const body = await readBounded(req, limit + FORM_OVERHEAD);
  if (body === null) return tooLarge();
  let form: FormData;
  try {
    form = await new Request(req.url, { method: "POST", headers: req.headers, body: body as BodyInit }).formData();
  } catch {
    return answer(400, { error: "send the model as a multipart form (field 'model')" });
  }
  const file = form.get("model");
  if (!(file instanceof File) || file.size === 0) return answer(400, { error: "choose an ONNX file to upload", fieldErrors: { model: ["choose a file"] } });
  try {
    const { runId, created } = await acceptUpload(services, user, {
      bytes: new Uint8Array(await file.arrayBuffer()),
      fileName: file.name,
      settings: {
        dataset: String(form.get("dataset") ?? "") as never,
        eps: number(form.get("eps")),
        samples: number(form.get("samples")) as number,
        mode: (form.get("mode") ? String(form.get("mode")) : undefined) as never,
        timeout: number(form.get("timeout")) ?? undefined,
      },
    });
    return answer(created ? 201 : 200, { runId, created, path: `/runs/${runId}` });
  } catch (error) {
    if (error instanceof UploadError) return answer(error.status, { error: error.message, fieldErrors: error.fieldErrors });
    throw error;
  }
}
