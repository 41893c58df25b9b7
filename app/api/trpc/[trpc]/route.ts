/** The HTTP entry of the tRPC API (queries, mutations and SSE subscriptions). */
import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/routers/_app";
import { crossSiteRefusal } from "@/server/http/origin";
import { readBoundedText } from "@/server/http/readBounded";
import { getServices } from "@/server/services";
import { createContext } from "@/server/trpc";

export const dynamic = "force-dynamic";

/** The largest request body accepted: far above any run configuration or sweep. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_BATCH_SIZE = 20;

async function handler(incoming: Request) {
  let req = incoming;
  let tooLarge = false;
  if (incoming.method === "POST") {
    // Every mutation is a POST: a cross-site one is refused before its body is read.
    const crossSite = crossSiteRefusal(incoming, getServices().settings.allowedOrigins);
    if (crossSite) return Response.json({ error: { message: crossSite, code: -32003, data: { code: "FORBIDDEN", httpStatus: 403 } } }, { status: 403 });
    const body = await readBoundedText(incoming, MAX_BODY_BYTES);
    tooLarge = body === null;
    const headers = new Headers(incoming.headers);
    headers.delete("content-length");
    // An over-long body is dropped unread; every call in it answers PAYLOAD_TOO_LARGE.
    req = new Request(incoming.url, { method: "POST", headers, body: tooLarge ? "{}" : body, signal: incoming.signal });
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: (opts) => {
      if (tooLarge) {
        throw new TRPCError({
          code: "PAYLOAD_TOO_LARGE",
          message: `the request is larger than ${MAX_BODY_BYTES / 1024} KiB; send fewer or smaller settings`,
        });
      }
      return createContext(opts, getServices());
    },
  });
}

export { handler as GET, handler as POST };
