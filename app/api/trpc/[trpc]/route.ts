/** The HTTP entry of the tRPC API (queries, mutations and SSE subscriptions). */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/routers/_app";
import { getServices } from "@/server/services";

export const dynamic = "force-dynamic";

function handler(req: Request) {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => ({ services: getServices() }),
  });
}

export { handler as GET, handler as POST };
