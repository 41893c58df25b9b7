/** The root router: one router per noun. The browser imports only the AppRouter type. */
import { router } from "../trpc";
import { authRouter } from "./auth";
import { modelsRouter } from "./models";
import { queueRouter } from "./queue";
import { resultsRouter } from "./results";
import { runsRouter } from "./runs";
import { sharesRouter } from "./shares";

export const appRouter = router({
  auth: authRouter,
  runs: runsRouter,
  results: resultsRouter,
  shares: sharesRouter,
  models: modelsRouter,
  queue: queueRouter,
});

export type AppRouter = typeof appRouter;
