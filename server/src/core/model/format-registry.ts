/**
 * The format modules, in detection order: the one place that lists them. Binary containers first
 * (HDF5 and zip signatures are unambiguous), then the JSON formats, then ONNX (protobuf has no magic).
 * Adding a format is one module under formats/ and one line here.
 */
import type { FormatModule } from './formats/format.js';
import { kerasH5Format } from './formats/keras-h5.js';
import { kerasV3Format } from './formats/keras-v3.js';
import { kerasJsonFormat } from './formats/keras-json.js';
import { tfjsLayersFormat } from './formats/tfjs-layers.js';
import { tfjsGraphFormat } from './formats/tfjs-graph.js';
import { savedModelFormat } from './formats/savedmodel.js';
import { onnxFormat } from './formats/onnx.js';

export const FORMATS: readonly FormatModule[] = [kerasH5Format, kerasV3Format, kerasJsonFormat, tfjsGraphFormat, tfjsLayersFormat, savedModelFormat, onnxFormat];

