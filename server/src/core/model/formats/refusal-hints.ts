/**
 * What to do instead of a refused model file, per error code and format family: the `hint` every loader
 * refusal carries (shown by the CLI and in the editor's diagnostic). A raiser with a more specific hint
 * gives its own; these fill the rest at the loader's boundary.
 */
import { LensError, type ErrorCode } from '../../errors.js';

/** What to do instead, per refusal code, where the raiser gives no more specific hint. */
export const KERAS_HINTS: Partial<Record<ErrorCode, string>> = {
  NO_ARCHITECTURE: "save the whole model with model.save('model.keras') (not save_weights), or pass the architecture JSON with --weights",
  LAMBDA_LAYER: 'replace the Lambda layer by a built-in Keras layer and re-save (LRP Lens never runs code from model files)',
  CUSTOM_LAYER: 'replace the custom layer by built-in Keras layers and re-save, or export the model to ONNX (tf2onnx, opset >= 13)',
  UNSUPPORTED_LAYER: "replace the layer by supported built-in layers (README, 'Supported formats and layers') and re-save",
  UNSUPPORTED_CONFIG: "re-save the model with a supported setting (README, 'Supported formats and layers'), or export it to ONNX (tf2onnx, opset >= 13)",
  GRAPH_INVALID: "the config is inconsistent: re-save the model with model.save('model.keras') from the Keras that built it",
  GRAPH_CYCLE: "the config is inconsistent: re-save the model with model.save('model.keras') from the Keras that built it",
  MISSING_WEIGHTS: "build the model (call it once or fit it) and re-save it with model.save('model.keras')",
  WEIGHT_MISMATCH: 'the weights do not belong to this architecture: pair the right files or re-save the whole model',
  SHAPE_LIMIT: 'the declared size is beyond what LRP Lens loads: use a smaller model or input size',
};


/** Container-level refusals of the Keras-family files (.h5, .keras, to_json pair, TF.js layers). */
export const KERAS_FILE_HINTS: Partial<Record<ErrorCode, string>> = {
  ...KERAS_HINTS,
  FILE_NOT_FOUND: 'put the weights file next to the model JSON (X_weights.h5, X.weights.h5) or pass it with --weights; TF.js shards belong next to model.json',
  TRUNCATED: 'the file is incomplete: copy or download it again',
  CORRUPT: "the file is damaged or not what its name says: copy it again, or re-save the model with model.save('model.keras')",
  BAD_JSON: 'the JSON is damaged: export it again (model.to_json(), tensorflowjs_converter)',
  ZIP_UNSAFE: "do not use this archive; re-save the model with model.save('model.keras')",
  FILE_TOO_LARGE: 'the file is larger than LRP Lens loads: use a smaller model',
  GRAPH_MODEL: 'convert from the Keras model instead: tensorflowjs_converter --input_format keras model.h5 out/',
};

/** ONNX refusals. */
export const ONNX_HINTS: Partial<Record<ErrorCode, string>> = {
  UNSUPPORTED_OP: "re-export without the op (replace the layer in the source model), or with a newer opset (torch.onnx.export(..., opset_version=13..21), tf2onnx --opset 13); the README lists the supported ONNX ops",
  UNSUPPORTED_CONFIG: 're-export with constant folding and static weights (torch.onnx.export(..., do_constant_folding=True), tf2onnx --opset 13 or newer)',
  UNSUPPORTED_LAYER: "re-export without the layer, or replace it in the source model; the README lists the supported ONNX ops",
  GRAPH_INVALID: 'the graph is inconsistent: check it with onnx.checker.check_model and export it again',
  GRAPH_CYCLE: 'the graph is inconsistent: check it with onnx.checker.check_model and export it again',
  SHAPE_MISMATCH: 'export with fixed input shapes (dynamic axes for the batch only), or run onnx.shape_inference.infer_shapes and check the model',
  SHAPE_LIMIT: 'the declared size is beyond what LRP Lens loads: use a smaller model or input size',
  MISSING_WEIGHTS: 'export the weights into the graph as initializers (torch.onnx.export with export_params=True)',
  WEIGHT_MISMATCH: 'the stored weights do not match their declared shapes: export the model again',
  FILE_NOT_FOUND: 'keep the external-data files next to the .onnx file, under the names the model gives',
  TRUNCATED: 'the file is incomplete: copy or download it again',
  CORRUPT: 'the file is not a valid ONNX model: export it again (onnx.checker.check_model should pass)',
  FILE_TOO_LARGE: 'the file is larger than LRP Lens loads (2 GiB): use a smaller model',
};

/** TensorFlow op-graph refusals (TF.js graph models; SavedModel signature graphs). */
export const TF_GRAPH_HINTS: Partial<Record<ErrorCode, string>> = {
  UNSUPPORTED_OP: 'convert the Keras model with tensorflowjs_converter --output_format tfjs_layers_model, or export it to ONNX (tf2onnx, opset >= 13)',
  UNSUPPORTED_CONFIG: 'convert the Keras model with tensorflowjs_converter --output_format tfjs_layers_model, or export it to ONNX (tf2onnx, opset >= 13)',
  GRAPH_INVALID: 'the op graph is inconsistent: convert the model again',
  GRAPH_CYCLE: 'the op graph is inconsistent: convert the model again',
  NO_ARCHITECTURE: 'the model.json holds no op graph: convert the model again with tensorflowjs_converter',
  SHAPE_MISMATCH: 'the op graph does not fit its declared shapes: convert the model again',
  SHAPE_LIMIT: 'the declared size is beyond what LRP Lens loads: use a smaller model or input size',
  MISSING_WEIGHTS: 'keep the weight shards next to model.json, as the weightsManifest names them',
  WEIGHT_MISMATCH: 'the stored weights do not match their declared shapes: convert the model again',
  TRUNCATED: 'the file is incomplete: copy or download it again',
  CORRUPT: 'the file is damaged: copy it again, or convert the model again',
  BAD_JSON: 'the JSON is damaged: convert the model again with tensorflowjs_converter',
  FILE_TOO_LARGE: 'the file is larger than LRP Lens loads: use a smaller model',
};

/** `e` with the table's hint for its code where it has none (anything else passes through). */
export function withDefaultHint(e: unknown, table: Partial<Record<ErrorCode, string>>): unknown {
  if (!(e instanceof LensError) || e.hint) return e;
  const hint = table[e.code];
  return hint ? new LensError(e.code, e.message, { file: e.file, layer: e.layer, hint }) : e;
}
