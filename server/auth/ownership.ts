/**
 * Who may change a run: the account that launched it (by id: a new account under a
 * removed researcher's name is someone else). Runs from before accounts existed have no
 * owner and may be changed by any researcher; a run whose owner's account is gone, by
 * nobody. Every mutation that acts on a run (cancel, retry, delete, tagging it into a
 * sweep, sharing it) asks here.
 */
import type { Run } from "../store/runs";
import type { User } from "./accounts";

export function ownsRun(user: User, run: Pick<Run, "owner" | "ownerId">): boolean {
  if (run.ownerId !== null) return run.ownerId === user.id;
  return run.owner === null;
}
