/**
 * Images (PNG, JPEG, TIFF, WebP, ...) as arrays through sharp: one variable `image` of shape
 * [height, width, channels] (dims y, x, channel), channel order and scaling stated in its attributes.
 * 16-bit PNG/TIFF keep their depth (scaled by 65535 instead of 255).
 */
import { LensError, LIMITS } from '../errors.js';
import { sliceArray } from './hyperslab.js';
import { readRegular } from './regular-file.js';
import type { NdArray } from '../array.js';
import type { DataSource, Hyperslab } from './source.js';

export type ChannelOrder = 'rgb' | 'bgr' | 'rgba' | 'grayscale';
/** '0-1': divided by the type's maximum; '0-255': raw 8-bit values (16-bit scaled to 0..255); '-1-1': 2*(v/max)-1. */
export type ImageScale = '0-1' | '0-255' | '-1-1';

export interface ImageOptions {
  channels?: ChannelOrder;
  scale?: ImageScale;
}

export function isImage(head: Uint8Array): boolean {
  const png = head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
  const jpeg = head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
  const tiff = (head[0] === 0x49 && head[1] === 0x49 && head[2] === 0x2a) || (head[0] === 0x4d && head[1] === 0x4d && head[3] === 0x2a);
  const webp = head[0] === 0x52 && head[1] === 0x49 && head[2] === 0x46 && head[3] === 0x46 && head[8] === 0x57 && head[9] === 0x45;
  const gif = head[0] === 0x47 && head[1] === 0x49 && head[2] === 0x46;
  return png || jpeg || tiff || webp || gif;
}

export async function openImage(file: string, opts: ImageOptions = {}): Promise<DataSource> {
  // The decoder gets bytes, not the path: only a regular file's bytes, within budget (regular-file.ts).
  const bytes = await readRegular(file, 'wholeFileBytes');
  const channels = opts.channels ?? 'rgb';
  const scale = opts.scale ?? '0-1';
  const { default: sharp } = await import('sharp');
  let meta;
  try {
    meta = await sharp(bytes, { limitInputPixels: LIMITS.maxTensorElements }).metadata();
  } catch (e) {
    throw new LensError('CORRUPT', `unreadable image: ${(e as Error).message}`, { file });
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  const c = channels === 'grayscale' ? 1 : channels === 'rgba' ? 4 : 3;
  if (w * h * c > LIMITS.maxTensorElements) throw new LensError('FILE_TOO_LARGE', `image of ${w}x${h} pixels is too large to hold`, { file });
  const sixteen = meta.depth === 'ushort';
  const max = sixteen ? 65535 : 255;
  let cache: Float32Array | undefined;
  const decode = async (): Promise<Float32Array> => {
    if (cache) return cache;
    let p = sharp(bytes, { limitInputPixels: LIMITS.maxTensorElements });
    if (channels === 'grayscale') p = p.toColourspace(sixteen ? 'grey16' : 'b-w');
    else {
      p = p.toColourspace(sixteen ? 'rgb16' : 'srgb');
      p = channels === 'rgba' ? p.ensureAlpha() : p.removeAlpha();
    }
    let out;
    try {
      out = await p.raw(sixteen ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
    } catch (e) {
      throw new LensError('CORRUPT', `unreadable image: ${(e as Error).message}`, { file });
    }
    const { data, info } = out;
    const src = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels !== c) throw new LensError('DATA_ERROR', `image decoded to ${info.channels} channels, expected ${c}`, { file });
    const v = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const x = src[i] / max;
      v[i] = scale === '0-1' ? x : scale === '0-255' ? x * 255 : 2 * x - 1;
    }
    if (channels === 'bgr') {
      for (let i = 0; i < v.length; i += 3) {
        const t = v[i];
        v[i] = v[i + 2];
        v[i + 2] = t;
      }
    }
    cache = v;
    return v;
  };
  const shape = [h, w, c];
  return {
    path: file,
    format: 'image',
    dims: { y: h, x: w, channel: c },
    variables: [
      {
        name: 'image',
        dims: ['y', 'x', 'channel'],
        shape,
        dtype: 'f4',
        attrs: { channel_order: channels, scaling: scale, bit_depth: sixteen ? 16 : 8, source_format: meta.format ?? 'unknown' },
      },
    ],
    globalAttrs: { width: w, height: h },
    bytesRead: () => -1,
    close: async () => undefined,
    async read(name: string, slab: Hyperslab): Promise<NdArray> {
      if (name !== 'image') throw new LensError('UNKNOWN_VARIABLE', `an image has one variable, 'image'; no ${name}`, { file });
      const v = await decode();
      return { shape: slab.map(([a, b]) => b - a), data: sliceArray(v, shape, slab), dtype: 'f4' };
    },
  };
}
