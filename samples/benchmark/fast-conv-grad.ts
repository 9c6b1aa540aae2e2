/**
 * A faster Conv2DBackpropFilter for the tfjs cpu backend, used when training the benchmark models.
 * tfjs's own kernel reads every element through TensorBuffer.get (index arithmetic over varargs), which
 * made it 80-90 % of a training step: a BatchNorm variant took minutes per seed on a shared 2-core
 * machine. This one runs the same loops in the same order with the same float64 accumulator, indexing
 * the flat arrays directly, so the gradients (and the trained weights) are bit-identical, only faster.
 */
import * as tf from '@tensorflow/tfjs';

interface Info { dataId: object; shape: number[]; dtype: string }
interface CpuBackend { data: { get(id: object): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: string, values: Float32Array): Info }

export function conv2DBackpropFilter(args: { inputs: { x: Info; dy: Info }; backend: CpuBackend; attrs: Record<string, unknown> }): Info {
  const { inputs: { x, dy }, backend, attrs } = args;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat as 'NHWC' | 'NCHW');
  const c = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape as [number, number, number, number], attrs.strides as [number, number],
    1, attrs.pad as 'valid', attrs.dimRoundingMode as 'floor' | undefined, false, dataFormat,
  );
  const last = c.dataFormat === 'channelsLast';
  const xv = backend.data.get(x.dataId).values, dyv = backend.data.get(dy.dataId).values;
  const [, xs1, xs2, xs3] = x.shape; // per-dimension sizes of x (NHWC or NCHW)
  const [, ds1, ds2, ds3] = dy.shape;
  const dW = new Float32Array(c.filterHeight * c.filterWidth * c.inChannels * c.outChannels);
  const top = c.padInfo.top, left = c.padInfo.left, sh = c.strideHeight, sw = c.strideWidth;
  for (let wR = 0; wR < c.filterHeight; ++wR) {
    const yRMin = Math.max(0, Math.ceil((top - wR) / sh));
    const yRMax = Math.min(c.outHeight, (c.inHeight + top - wR) / sh);
    for (let wC = 0; wC < c.filterWidth; ++wC) {
      const yCMin = Math.max(0, Math.ceil((left - wC) / sw));
      const yCMax = Math.min(c.outWidth, (c.inWidth + left - wC) / sw);
      for (let d1 = 0; d1 < c.inChannels; ++d1) {
        for (let d2 = 0; d2 < c.outChannels; ++d2) {
          let dot = 0;
          for (let b = 0; b < c.batchSize; ++b) {
            for (let yR = yRMin; yR < yRMax; ++yR) {
              const xR = wR + yR * sh - top;
              for (let yC = yCMin; yC < yCMax; ++yC) {
                const xC = wC + yC * sw - left;
                dot += last
                  ? xv[((b * xs1 + xR) * xs2 + xC) * xs3 + d1] * dyv[((b * ds1 + yR) * ds2 + yC) * ds3 + d2]
                  : xv[((b * xs1 + d1) * xs2 + xR) * xs3 + xC] * dyv[((b * ds1 + d2) * ds2 + yR) * ds3 + yC];
              }
            }
          }
          dW[((wR * c.filterWidth + wC) * c.inChannels + d1) * c.outChannels + d2] = dot;
        }
      }
    }
  }
  return backend.makeTensorInfo(c.filterShape, 'float32', dW);
}

/** Replaces the cpu backend's kernel with the one above (before training); returns a function that puts tfjs's back. */
export function useFastConvFilterGrad(): () => void {
  const own = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  const swap = (kernelFunc: tf.KernelFunc) => {
    tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'cpu', kernelFunc });
  };
  swap(conv2DBackpropFilter as unknown as tf.KernelFunc);
  return () => { if (own) swap(own.kernelFunc); };
}
