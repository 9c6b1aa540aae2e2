/** lrpLens/renderPng: the panel's PNG export, rendered with sharp (loaded on first use). */
import { LensError } from '../../core/errors.js';
import type { RenderPngResult } from '../../protocol.js';
import type { ServerState } from '../state.js';

export async function renderPng(_state: ServerState, req: unknown): Promise<RenderPngResult> {
  // Loaded on first use: sharp is a native module, not needed to serve diagnostics.
  const { renderPngRequest } = await import('../../core/render/png-request.js').catch((e: Error) => {
    throw new LensError('BACKEND_UNAVAILABLE', `PNG export needs the sharp package, which did not load here (${e.message.split('\n')[0]})`);
  });
  const png = await renderPngRequest(req as Parameters<typeof renderPngRequest>[0]);
  return { base64: png.toString('base64') };
}
