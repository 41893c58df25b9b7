/**
 * Sparsity, one definition everywhere. A round reports what remains of three things, each
 * a count out of a total (round_finished.sparsity):
 *
 *   scope     weights of the pruned layers (the pruning scope: e.g. conv layers only)
 *   all       all weights of the network (every conv and linear layer)
 *   channels  channels / neurons of the pruned layers (structured methods only; else null)
 *
 * Events written before the engine reported `sparsity` have only remainingRatio, which is
 * the scope's fraction: it is read as "of pruned layers", and the other two are "not
 * recorded" (never guessed). Shared by the run page, the compare page, the runs table and
 * the exports.
 */

export const SPARSITY_BASES = ["scope", "all", "channels"] as const;
export type SparsityBasis = (typeof SPARSITY_BASES)[number];

export const SPARSITY_LABELS: Record<SparsityBasis, { short: string; axis: string; column: string; help: string }> = {
  scope: {
    short: "of pruned layers",
    axis: "remaining weights of the pruned layers",
    column: "remaining (pruned layers)",
    help: "Remaining fraction of the weights in the layers the method prunes (the pruning scope); layers outside the scope are not counted.",
  },
  all: {
    short: "of all weights",
    axis: "remaining weights of the whole network",
    column: "remaining (all weights)",
    help: "Remaining fraction of all weights of the network (every conv and linear layer), pruned or not.",
  },
  channels: {
    short: "of channels",
    axis: "remaining channels of the pruned layers",
    column: "remaining (channels)",
    help: "Remaining fraction of the channels / neurons of the pruned layers (structured methods only).",
  },
};

/** A count out of a total. */
export interface Share {
  remaining: number;
  total: number;
}

/** What a round carries about sparsity: a round_finished event, a compare RoundResult, ... */
export interface SparsityOf {
  remainingRatio: number;
  sparsity?: { scope: Share; all: Share; channels: Share | null } | null;
}

/** The count out of the total for a basis, when the engine recorded it. */
export function shareOf(round: SparsityOf, basis: SparsityBasis): Share | null {
  const s = round.sparsity;
  if (!s) return null;
  return basis === "channels" ? s.channels : s[basis];
}

/**
 * The remaining fraction for a basis, or null when not recorded. "scope" falls back to
 * remainingRatio (the same fraction, from events older than `sparsity`).
 */
export function remainingOf(round: SparsityOf, basis: SparsityBasis): number | null {
  const share = shareOf(round, basis);
  if (share) return share.total > 0 ? share.remaining / share.total : null;
  return basis === "scope" ? round.remainingRatio : null;
}

/** The bases any of these rounds recorded ("scope" always), in SPARSITY_BASES order. */
export function basesOf(rounds: readonly SparsityOf[]): SparsityBasis[] {
  return SPARSITY_BASES.filter((b) => b === "scope" || rounds.some((r) => remainingOf(r, b) != null));
}

/** A remaining fraction as a percentage with three significant digits ("64.0%"), or "not recorded". */
export function remainingText(fraction: number | null | undefined): string {
  return fraction == null || !Number.isFinite(fraction) ? "not recorded" : `${(fraction * 100).toPrecision(3)}%`;
}

/** "64.0% of pruned layers" */
export function remainingLabel(round: SparsityOf, basis: SparsityBasis): string {
  const x = remainingOf(round, basis);
  return x == null ? `${SPARSITY_LABELS[basis].short}: not recorded` : `${remainingText(x)} ${SPARSITY_LABELS[basis].short}`;
}
