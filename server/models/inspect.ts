/**
 * What a model file holds, counted from the ONNX file itself (onnxReader), never from the
 * engine's report: layers, shapes, parameters, zero weights and remaining channels.
 *
 * Layers are the Conv, Gemm and MatMul nodes, named conv1, conv2, ..., fc1, fc2, ... in
 * graph order, as the engine names them. A weight is remaining when it is non-zero; an
 * output channel (a conv filter, a neuron) remains when its weights have a non-zero entry.
 */
import onnxOperators from "../../engine/schemas/onnx-operators.json";
import { readOnnx, type OnnxModel, type OnnxNode, type OnnxTensor } from "./onnxReader";

/** The operators the engine's verifier imports: one list for both (engine/schemas/onnx-operators.json). */
export const SUPPORTED_OPS: readonly string[] = onnxOperators.operators;

export interface InspectedLayer {
  name: string;
  kind: "conv" | "linear";
  op: string;
  node: string;
  weightShape: number[];
  biasShape: number[] | null;
  /** Weights and biases. */
  parameters: number;
  weights: number;
  remainingWeights: number;
  channels: number;
  remainingChannels: number;
  /** Fraction of weights that are zero. */
  sparsity: number;
}

export interface Inspection {
  producer: string;
  irVersion: number;
  opset: number | null;
  bytes: number;
  input: { name: string; shape: (number | string | null)[] | null } | null;
  output: { name: string; shape: (number | string | null)[] | null } | null;
  operators: { index: number; name: string; op: string }[];
  layers: InspectedLayer[];
  totals: { parameters: number; weights: number; remainingWeights: number; sparsity: number };
  /** Nodes the engine's verifier cannot import, e.g. "Sigmoid at node 3 (sig)". */
  unsupported: string[];
}

const nodeLabel = (node: OnnxNode, index: number) => `node ${index}${node.name ? ` (${node.name})` : ""}`;

/** Tensors by name: initializers and the outputs of Constant nodes. */
function constants(model: OnnxModel): Map<string, OnnxTensor> {
  const found = new Map(model.initializers);
  for (const node of model.nodes) {
    const value = node.opType === "Constant" ? node.attributes.find((a) => a.name === "value")?.t : undefined;
    if (value && node.outputs[0]) found.set(node.outputs[0], value);
  }
  return found;
}

/**
 * (out, fan_in) view of a layer's weight: conv (out, in, kh, kw); Gemm with transB (out, in),
 * without it and MatMul (in, out). Returns the number of output channels and a reader.
 */
function weightRows(op: string, node: OnnxNode, weight: OnnxTensor): { channels: number; at: (channel: number, j: number) => number; fanIn: number } {
  const values = weight.values!;
  const transB = node.attributes.find((a) => a.name === "transB")?.i ?? 0;
  if (op === "Conv" || (op === "Gemm" && transB)) {
    const channels = weight.dims[0];
    const fanIn = channels ? values.length / channels : 0;
    return { channels, fanIn, at: (c, j) => values[c * fanIn + j] };
  }
  const [fanIn, channels] = weight.dims;
  return { channels, fanIn, at: (c, j) => values[j * channels + c] };
}

export function inspectOnnx(data: Uint8Array): Inspection {
  const model = readOnnx(data);
  const tensors = constants(model);
  const layers: InspectedLayer[] = [];
  const counts = { conv: 0, linear: 0 };
  const unsupported: string[] = [];
  model.nodes.forEach((node, index) => {
    const where = nodeLabel(node, index);
    if (!SUPPORTED_OPS.includes(node.opType) || (node.domain !== "" && node.domain !== "ai.onnx")) {
      unsupported.push(`${node.domain && node.domain !== "ai.onnx" ? `${node.domain}.` : ""}${node.opType} at ${where}`);
    }
    if (node.opType !== "Conv" && node.opType !== "Gemm" && node.opType !== "MatMul") return;
    const weight = tensors.get(node.inputs[1]);
    if (!weight?.values) return; // data x data products carry no weights of their own
    const bias = node.opType !== "MatMul" && node.inputs[2] ? tensors.get(node.inputs[2]) ?? null : null;
    const kind = node.opType === "Conv" ? "conv" : "linear";
    counts[kind] += 1;
    const rows = weightRows(node.opType, node, weight);
    let remainingChannels = 0;
    for (let c = 0; c < rows.channels; c++) {
      for (let j = 0; j < rows.fanIn; j++) {
        if (rows.at(c, j) !== 0) {
          remainingChannels++;
          break;
        }
      }
    }
    let remainingWeights = 0;
    for (const v of weight.values) if (v !== 0) remainingWeights++;
    const weights = weight.values.length;
    layers.push({
      name: `${kind === "conv" ? "conv" : "fc"}${counts[kind]}`,
      kind,
      op: node.opType,
      node: where,
      weightShape: weight.dims,
      biasShape: bias?.dims ?? null,
      parameters: weights + (bias?.values?.length ?? 0),
      weights,
      remainingWeights,
      channels: rows.channels,
      remainingChannels,
      sparsity: weights ? 1 - remainingWeights / weights : 0,
    });
  });
  const weights = layers.reduce((s, l) => s + l.weights, 0);
  const remainingWeights = layers.reduce((s, l) => s + l.remainingWeights, 0);
  const value = (v: OnnxModel["inputs"][number] | undefined) => (v ? { name: v.name, shape: v.shape } : null);
  const dataInputs = model.inputs.filter((i) => !model.initializers.has(i.name));
  return {
    producer: model.producer,
    irVersion: model.irVersion,
    opset: model.opsets.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version ?? null,
    bytes: data.byteLength,
    input: value(dataInputs[0]),
    output: value(model.outputs[0]),
    operators: model.nodes.map((n, index) => ({ index, name: n.name, op: n.opType })),
    layers,
    totals: {
      parameters: layers.reduce((s, l) => s + l.parameters, 0),
      weights,
      remainingWeights,
      sparsity: weights ? 1 - remainingWeights / weights : 0,
    },
    unsupported,
  };
}
