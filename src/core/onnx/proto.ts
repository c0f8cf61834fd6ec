// The ONNX schema, compiled from onnx.proto by protobufjs-cli (`npm run gen:onnx-schema`).
// Decoding goes through protobufjs so that every field, packed or not, is read the way protobuf
// specifies. The one hand-written walk of the wire format is stream.ts's, and it only frames the
// fields it routes (graph, initializer, raw_data): everything else it hands back to protobufjs.
import protobuf from 'protobufjs/light.js';
import schema from './onnx.schema.json';

const root = protobuf.Root.fromJSON(schema as protobuf.INamespace);

export const ModelProtoType = root.lookupType('onnx.ModelProto');
export const TensorProtoType = root.lookupType('onnx.TensorProto');
export const NodeProtoType = root.lookupType('onnx.NodeProto');
export const ValueInfoProtoType = root.lookupType('onnx.ValueInfoProto');

/** int64 fields decode to `Long` objects (protobufjs depends on `long`) or numbers. */
export type Int64 = number | { toNumber(): number; low: number; high: number; unsigned?: boolean };

export interface StringStringEntry {
  key: string;
  value: string;
}

export interface TensorProto {
  dims: Int64[];
  data_type: number;
  name: string;
  raw_data?: Uint8Array;
  float_data: number[];
  int32_data: number[];
  int64_data: Int64[];
  double_data: number[];
  uint64_data: Int64[];
  string_data: Uint8Array[];
  data_location?: number;
  external_data: StringStringEntry[];
  doc_string?: string;
}

export interface Dimension {
  dim_value?: Int64;
  dim_param?: string;
}
export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim: Dimension[] } };
}
export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
  doc_string?: string;
}

export interface AttributeProto {
  name: string;
  type?: number;
  t?: TensorProto;
  [k: string]: unknown;
}
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute: AttributeProto[];
}

export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
  sparse_initializer: unknown[];
}

export interface OperatorSetIdProto {
  domain?: string;
  version: Int64;
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProto;
  metadata_props: StringStringEntry[];
  functions: unknown[];
}
