/** Colours shared by the run page's charts and legends (the statuses match globals.css). */
export const COLORS = {
  verified: "#2e9e5b",
  falsified: "#d2453b",
  unknown: "#e3a21a",
  misclassified: "#8a94a3",
  pending: "#e7ebf0",
  standard: "#2f6fde",
  adversarial: "#8b5cf6",
  loss: "#d2453b",
  train: "#2f6fde",
  test: "#2e9e5b",
  robust: "#8b5cf6",
  eps: "#e3a21a",
  lr: "#5f6b7a",
  unstable: "#d2453b",
  instability: "#1d2330",
  active: "#2e9e5b",
  inactive: "#8a94a3",
  grid: "#e3e7ed",
} as const;

export const AXIS_TICK = { fontSize: 12, fill: "#5f6b7a" };
