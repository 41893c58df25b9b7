/**
 * A small reader of ONNX files (protobuf), written so that the server counts a model's
 * layers and weights from the file itself, independently of the engine and of any ONNX
 * library. It decodes only what the inspector and the upload check need:
 * ModelProto.graph -> GraphProto.{node, initializer, input, output}; NodeProto
 * {input, output, name, op_type, domain, attribute}; TensorProto {dims, data_type,
 * raw_data, float_data, int64_data, double_data}; ValueInfoProto's tensor shape.
 *
 *   const model = readOnnx(buffer);      // throws OnnxFormatError naming what is wrong
 */

export class OnnxFormatError extends Error {}

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** ONNX TensorProto.DataType: 1 float, 6 int32, 7 int64, 11 double, ... */
  dataType: number;
  /** The values (floats, or integers for integer types); null for types the reader does not decode. */
  values: Float64Array | null;
}
export interface OnnxAttribute { name: string; i?: number; f?: number; s?: string; ints?: number[]; floats?: number[]; t?: OnnxTensor }
export interface OnnxNode { name: string; opType: string; domain: string; inputs: string[]; outputs: string[]; attributes: OnnxAttribute[] }
/** A graph input or output: its name and shape (a string for a symbolic dimension, null if absent). */
export interface OnnxValue { name: string; elemType: number; shape: (number | string | null)[] | null }
export interface OnnxModel {
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

type Field = { field: number; wire: number; varint: bigint; bytes: Uint8Array; fixed: DataView | null };

/** Every field of one protobuf message, in file order. */
function* fields(buf: Uint8Array, where: string): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw new OnnxFormatError(`${where}: the file ends inside a number (truncated?)`);
      if (shift > 63n) throw new OnnxFormatError(`${where}: a number at byte ${pos} is longer than 10 bytes`);
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3, wire = key & 7;
    if (field === 0) throw new OnnxFormatError(`${where}: field number 0 at byte ${pos}; this is not protobuf data`);
    if (wire === 0) yield { field, wire, varint: varint(), bytes: new Uint8Array(0), fixed: null };
    else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (pos + size > buf.length) throw new OnnxFormatError(`${where}: the file ends inside field ${field} (truncated?)`);
      yield { field, wire, varint: 0n, bytes: buf.subarray(pos, pos + size), fixed: new DataView(buf.buffer, buf.byteOffset + pos, size) };
      pos += size;
    } else if (wire === 2) {
      const length = Number(varint());
      if (pos + length > buf.length) throw new OnnxFormatError(`${where}: field ${field} claims ${length} bytes but only ${buf.length - pos} remain (truncated or not an ONNX file)`);
      yield { field, wire, varint: 0n, bytes: buf.subarray(pos, pos + length), fixed: null };
      pos += length;
    } else throw new OnnxFormatError(`${where}: unsupported protobuf wire type ${wire} at byte ${pos}; this is not an ONNX file`);
  }
}

const text = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
const int64 = (v: bigint) => Number(BigInt.asIntN(64, v));

function packedVarints(out: number[], b: Uint8Array, where: string): void {
  let pos = 0;
  while (pos < b.length) {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= b.length || shift > 63n) throw new OnnxFormatError(`${where}: malformed packed integers`);
      const byte = b[pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    out.push(int64(result));
  }
}
/** Repeated integers, packed (wire 2) or one per field (wire 0). */
function ints(out: number[], f: Field, where: string): void {
  if (f.wire === 2) packedVarints(out, f.bytes, where);
  else out.push(int64(f.varint));
}
function floats(out: number[], f: Field, size: 4 | 8): void {
  const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  for (let i = 0; i + size <= f.bytes.byteLength; i += size) out.push(size === 4 ? view.getFloat32(i, true) : view.getFloat64(i, true));
}

function readTensor(buf: Uint8Array, where: string): OnnxTensor {
  const dims: number[] = [], listed: number[] = [];
  let name = "", dataType = 0, raw: Uint8Array | null = null, external = false;
  for (const f of fields(buf, where)) {
    if (f.field === 1) ints(dims, f, where);
    else if (f.field === 2) dataType = Number(f.varint);
    else if (f.field === 8) name = text(f.bytes);
    else if (f.field === 9) raw = f.bytes;
    else if (f.field === 4) f.wire === 2 ? floats(listed, f, 4) : listed.push(f.fixed!.getFloat32(0, true));
    else if (f.field === 10) f.wire === 2 ? floats(listed, f, 8) : listed.push(f.fixed!.getFloat64(0, true));
    else if (f.field === 5 || f.field === 7) ints(listed, f, where);
    else if (f.field === 14 && f.varint === 1n) external = true;
  }
  const label = `${where} (tensor ${name || "unnamed"})`;
  if (external) throw new OnnxFormatError(`${label} keeps its data in an external file; save the model with its weights inside (onnx.save(model, path, save_as_external_data=False))`);
  const count = dims.reduce((a, b) => a * b, 1);
  let values: Float64Array | null = null;
  if (raw) {
    const size = { 1: 4, 6: 4, 7: 8, 11: 8 }[dataType];
    if (size) {
      if (raw.byteLength !== count * size) throw new OnnxFormatError(`${label}: has ${raw.byteLength} bytes of data but dims [${dims}] need ${count * size}`);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      values = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        values[i] = dataType === 1 ? view.getFloat32(i * 4, true) : dataType === 6 ? view.getInt32(i * 4, true)
          : dataType === 7 ? Number(view.getBigInt64(i * 8, true)) : view.getFloat64(i * 8, true);
      }
    }
  } else if (listed.length === count) values = Float64Array.from(listed);
  else if (listed.length) throw new OnnxFormatError(`${label}: has ${listed.length} values but dims [${dims}] need ${count}`);
  return { name, dims, dataType, values };
}

function readAttribute(buf: Uint8Array, where: string): OnnxAttribute {
  const attr: OnnxAttribute = { name: "" };
  for (const f of fields(buf, where)) {
    if (f.field === 1) attr.name = text(f.bytes);
    else if (f.field === 2) attr.f = f.fixed!.getFloat32(0, true);
    else if (f.field === 3) attr.i = int64(f.varint);
    else if (f.field === 4) attr.s = text(f.bytes);
    else if (f.field === 5) attr.t = readTensor(f.bytes, `${where} attribute ${attr.name}`);
    else if (f.field === 7) floats((attr.floats ??= []), f, 4);
    else if (f.field === 8) ints((attr.ints ??= []), f, where);
  }
  return attr;
}

function readNode(buf: Uint8Array, where: string): OnnxNode {
  const node: OnnxNode = { name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [] };
  for (const f of fields(buf, where)) {
    if (f.field === 1) node.inputs.push(text(f.bytes));
    else if (f.field === 2) node.outputs.push(text(f.bytes));
    else if (f.field === 3) node.name = text(f.bytes);
    else if (f.field === 4) node.opType = text(f.bytes);
    else if (f.field === 7) node.domain = text(f.bytes);
    else if (f.field === 5) node.attributes.push(readAttribute(f.bytes, where));
  }
  if (!node.opType) throw new OnnxFormatError(`${where} has no operator type`);
  return node;
}

/** ValueInfoProto -> TypeProto.tensor_type -> {elem_type, shape.dim[] -> dim_value | dim_param}. */
function readValue(buf: Uint8Array, where: string): OnnxValue {
  const value: OnnxValue = { name: "", elemType: 0, shape: null };
  for (const f of fields(buf, where)) {
    if (f.field === 1) value.name = text(f.bytes);
    if (f.field !== 2) continue;
    for (const t of fields(f.bytes, where)) {
      if (t.field !== 1) continue;
      for (const tensor of fields(t.bytes, where)) {
        if (tensor.field === 1) value.elemType = Number(tensor.varint);
        if (tensor.field !== 2) continue;
        value.shape = [];
        for (const dim of fields(tensor.bytes, where)) {
          if (dim.field !== 1) continue;
          let size: number | string | null = null;
          for (const d of fields(dim.bytes, where)) size = d.field === 1 ? int64(d.varint) : d.field === 2 ? text(d.bytes) : size;
          value.shape.push(size);
        }
      }
    }
  }
  return value;
}

/** Decodes an ONNX model; throws OnnxFormatError with what is wrong and where. */
export function readOnnx(data: Uint8Array): OnnxModel {
  if (data.byteLength === 0) throw new OnnxFormatError("the file is empty");
  const model: OnnxModel = { irVersion: 0, producer: "", opsets: [], nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  let graph: Uint8Array | null = null;
  for (const f of fields(data, "ModelProto")) {
    if (f.field === 1) model.irVersion = Number(f.varint);
    else if (f.field === 2) model.producer = text(f.bytes);
    else if (f.field === 7) graph = f.bytes;
    else if (f.field === 8) {
      const opset = { domain: "", version: 0 };
      for (const o of fields(f.bytes, "opset_import")) o.field === 1 ? (opset.domain = text(o.bytes)) : o.field === 2 && (opset.version = Number(o.varint));
      model.opsets.push(opset);
    }
  }
  if (!graph || model.irVersion === 0) throw new OnnxFormatError("not an ONNX model: it has no graph or no IR version (is this an ONNX file?)");
  for (const f of fields(graph, "GraphProto")) {
    if (f.field === 1) model.nodes.push(readNode(f.bytes, `node ${model.nodes.length}`));
    else if (f.field === 5) {
      const tensor = readTensor(f.bytes, `initializer ${model.initializers.size}`);
      model.initializers.set(tensor.name, tensor);
    } else if (f.field === 11) model.inputs.push(readValue(f.bytes, "graph input"));
    else if (f.field === 12) model.outputs.push(readValue(f.bytes, "graph output"));
  }
  if (model.nodes.length === 0) throw new OnnxFormatError("the ONNX graph has no nodes");
  if (model.outputs.length === 0) throw new OnnxFormatError("the ONNX graph declares no output");
  return model;
}
