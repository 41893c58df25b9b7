/**
 * Runs once when the dashboard's server starts: start the services at boot, so runs that
 * a restart interrupted resume at once, without waiting for the first visitor.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { getServices } = await import("./server/services");
  getServices();
}
