/** The root router: one router per noun. The browser imports only the AppRouter type. */
import { router } from "../trpc";
import { runsRouter } from "./runs";

export const appRouter = router({
  runs: runsRouter,
});

export type AppRouter = typeof appRouter;
