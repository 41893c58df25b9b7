/**
 * A request's body, read up to a limit: the tRPC entry (64 KiB of JSON) and the model upload
 * (the model's size limit plus the form around it) both stop reading, and drop what they read,
 * as soon as a body turns out longer than they accept, so an endless body costs nothing.
 */

/** The body's bytes, read up to `limit`; null when it is longer (declared or actually sent). */
export async function readBounded(req: Request, limit: number): Promise<Uint8Array | null> {
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > limit) return null;
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The body as UTF-8 text, read up to `limit` bytes; null when it is longer. */
export async function readBoundedText(req: Request, limit: number): Promise<string | null> {
  const bytes = await readBounded(req, limit);
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
