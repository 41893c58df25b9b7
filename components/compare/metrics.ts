/**
 * The metrics the compare page's main chart can show (its metric selector lists them). Apart
 * from the chart, so that the page can name them without loading the charting library.
 */
import type { SeriesPoint, Stat } from "@/lib/compare/series";
import type { CompareMetric } from "@/lib/viewState";

export const METRICS: Record<CompareMetric, { title: string; short: string; pick: (p: SeriesPoint) => Stat | null; units: string }> = {
  verified: { title: "Verified accuracy", short: "verified", pick: (p) => p.verifiedAccuracy, units: "% of the verification samples proven robust (mean, 95% interval)" },
  standard: { title: "Standard accuracy", short: "standard", pick: (p) => p.standardAccuracy, units: "% of the test images classified correctly (mean, 95% interval)" },
  adversarial: { title: "Adversarial accuracy", short: "adversarial", pick: (p) => p.adversarialAccuracy, units: "% of the attacked test images still correct under PGD (mean, 95% interval)" },
  unstable: { title: "Unstable-neuron ratio", short: "unstable", pick: (p) => p.unstableRatio, units: "% of ReLUs whose IBP bounds contain 0 (mean, 95% interval)" },
};
