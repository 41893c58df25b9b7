/**
 * Every setting's default as a plain object, for browser code that must stay light
 * (the overview shows each run's settings as differences from these). Generated from the
 * zod schema in config.ts (the source of truth) by `npm run schemas`; do not edit.
 * protocol.test.ts fails if the two drift.
 */
import type { RunConfig } from "./config";

export const DEFAULT_SETTINGS: RunConfig = {
  "data": {
    "dataset": "fashion-mnist",
    "root": null,
    "trainSize": null,
    "testSize": null,
    "augment": true
  },
  "model": {
    "arch": "cnn7",
    "widths": [
      100,
      100
    ],
    "onnx": null
  },
  "training": {
    "regime": "crown-ibp",
    "epochs": 200,
    "batchSize": 128,
    "lr": null,
    "weightDecay": null,
    "lrMilestones": null,
    "lrGamma": 0.1,
    "gradClip": 8,
    "eps": null,
    "epsStart": 11,
    "epsLength": 80,
    "fgsmStep": 1.25,
    "gradAlignWeight": 0.2,
    "regularizer": "none",
    "regularizerWeight": null,
    "lossFusion": false,
    "ibpInit": false,
    "fastWarmup": false,
    "sabrBoxScale": 0.4,
    "sabrPgdSteps": 8,
    "mtlAlpha": 0.01,
    "mtlAttackSteps": 1,
    "mtlAttackStep": 10
  },
  "pruning": {
    "method": "imp",
    "rounds": 16,
    "rate": null,
    "scope": "conv",
    "schedule": "iterative",
    "targetRatio": null,
    "rewind": "init",
    "hydraEpochs": 20
  },
  "verification": {
    "mode": "bab",
    "eps": null,
    "samples": 200,
    "timeout": 300,
    "pgdSteps": 100,
    "pgdRestarts": 30,
    "attackSamples": 1000
  },
  "seed": 0,
  "device": "auto"
};
