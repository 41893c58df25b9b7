/**
 * What each dataset's images look like to a model: the per-image input shape (channels,
 * height, width) and the number of classes, as the engine's loaders define them
 * (engine/certprune/data/*.py INFO). An uploaded model must take exactly this shape.
 */
import type { RunConfig } from "./protocol";

export type Dataset = RunConfig["data"]["dataset"];

export const DATASET_INPUTS: Record<Dataset, { name: string; shape: readonly [number, number, number]; classes: number }> = {
  synthetic: { name: "the synthetic dataset", shape: [1, 16, 16], classes: 10 },
  "fashion-mnist": { name: "FashionMNIST", shape: [1, 28, 28], classes: 10 },
  cifar10: { name: "CIFAR-10", shape: [3, 32, 32], classes: 10 },
  svhn: { name: "SVHN", shape: [3, 32, 32], classes: 10 },
  imagenet64: { name: "ImageNet64", shape: [3, 64, 64], classes: 1000 },
};

/** "1x28x28" */
export const shapeText = (shape: readonly (number | string | null)[]) => shape.map((d) => d ?? "?").join("x");

/** The datasets whose images have this per-image shape, e.g. ["CIFAR-10", "SVHN"] for [3, 32, 32]. */
export function datasetsOfShape(shape: readonly (number | string | null)[]): Dataset[] {
  const text = shapeText(shape);
  return (Object.keys(DATASET_INPUTS) as Dataset[]).filter((d) => shapeText(DATASET_INPUTS[d].shape) === text);
}
