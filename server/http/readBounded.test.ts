import { describe, expect, it } from "vitest";
import { readBounded, readBoundedText } from "./readBounded";

/** A POST whose body arrives in the given chunks, without a declared length (like a chunked upload). */
function streamed(chunks: Uint8Array[], onPull?: () => void): Request {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      onPull?.();
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
  return new Request("http://localhost/x", { method: "POST", body, duplex: "half" } as RequestInit);
}

describe("reading a request body up to a limit", () => {
  it("returns the whole body when it fits, and text decoded across chunk boundaries", async () => {
    const euro = new TextEncoder().encode("price: 5 €"); // € is 3 bytes: split it between chunks
    expect(await readBounded(streamed([euro.subarray(0, 9), euro.subarray(9)]), euro.byteLength)).toEqual(Buffer.from(euro));
    expect(await readBoundedText(streamed([euro.subarray(0, 9), euro.subarray(9)]), 100)).toBe("price: 5 €");
    expect(await readBounded(new Request("http://localhost/x", { method: "GET" }), 10)).toEqual(new Uint8Array(0));
  });

  it("stops reading as soon as the body is longer than the limit", async () => {
    let pulls = 0;
    const chunk = new Uint8Array(1000);
    const endless = Array.from({ length: 1000 }, () => chunk);
    expect(await readBounded(streamed(endless, () => pulls++), 2500)).toBeNull();
    expect(pulls).toBeLessThan(10);
    expect(await readBoundedText(streamed([chunk, chunk]), 1999)).toBeNull();
  });

  it("refuses a declared length over the limit without reading anything", async () => {
    const declared = new Request(streamed([new Uint8Array(10)]), { headers: { "content-length": "5000" } });
    expect(await readBounded(declared, 4096)).toBeNull();
    expect(declared.bodyUsed).toBe(false);
  });
});
