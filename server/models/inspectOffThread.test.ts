/** An uploaded model is read beside the event loop, within a time limit. */
import { describe, expect, it } from "vitest";
import { checkModel, UploadError } from "./upload";

/** A 10 MB ONNX-shaped file whose one initializer lists 2 million floats one by one: slow to read (about 1.5 s on one core). */
function slowModel(values = 2_000_000): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
    return [...out, n];
  };
  const field = (number: number, body: Uint8Array) => {
    const head = [...varint((number << 3) | 2), ...varint(body.length)];
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    return out;
  };
  const tensor = new Uint8Array(values * 5);
  for (let i = 0; i < values; i++) tensor[i * 5] = (4 << 3) | 5; // float_data, fixed32 0.0
  const graph = field(7, field(5, tensor));
  const model = new Uint8Array(2 + graph.length);
  model.set([0x08, 7]); // ir_version 7
  model.set(graph, 2);
  return model;
}

/** Runs `work` while measuring the longest gap between 10 ms timer ticks (the event loop's stalls). */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T | Error; stallMs: number }> {
  let last = Date.now();
  let stallMs = 0;
  const tick = setInterval(() => {
    const now = Date.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  const result = await work().catch((e: Error) => e);
  clearInterval(tick);
  return { result, stallMs: Math.max(stallMs, Date.now() - last) }; // a stall just before the end counts too
}

describe("reading an uploaded model", () => {
  it("does not stall the event loop while a large model is read", async () => {
    const model = slowModel();
    const { result, stallMs } = await longestStall(() => checkModel(model));
    expect(result).toBeInstanceOf(UploadError);
    expect((result as UploadError).message).toMatch(/not a valid ONNX model: initializer 0 .* has 2000000 values/);
    expect(stallMs).toBeLessThan(400); // read on the event loop, this file stalls it for over a second
  });

  it("stops reading after the time limit, with a 422 that says so", async () => {
    const error = await checkModel(slowModel(), undefined, { timeoutMs: 300, maxHeapMb: 512 }).catch((e) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect([error.status, error.message]).toEqual([422, expect.stringMatching(/could not be read: reading the model took longer than 0.3 s/)]);
  });

  it("still names what is wrong with a malformed file", async () => {
    const error = await checkModel(new TextEncoder().encode("just some notes")).catch((e) => e);
    expect([error.status, error.message]).toEqual([400, expect.stringMatching(/^not a valid ONNX model: /)]);
  });
});
