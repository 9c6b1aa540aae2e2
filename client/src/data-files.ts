/**
 * Which files the data flow offers: every data file the CLI reads (core/data/load.ts detectFormat) and
 * Zarr store folders. Pure (no vscode import), so it is tested with node:test.
 */

/** Extensions of the data files the readers take (open dialogs' filters, workspace search). */
export const DATA_EXTENSIONS = ['nc', 'nc4', 'cdf', 'h5', 'hdf5', 'npy', 'npz', 'csv', 'png', 'jpg', 'jpeg', 'tif', 'tiff', 'webp'] as const;

/** The open dialog's filters: the gridded formats first, so the common case needs no filter change. */
export const DATA_FILTERS: Record<string, string[]> = {
  'Data files': [...DATA_EXTENSIONS],
  NetCDF: ['nc', 'nc4', 'cdf'],
  'NumPy arrays': ['npy', 'npz'],
  'Images and CSV': ['png', 'jpg', 'jpeg', 'tif', 'tiff', 'webp', 'csv'],
};

/** Glob of the data files in a workspace (for the quick pick), and of the files that mark a Zarr store. */
export const DATA_GLOB = `**/*.{${DATA_EXTENSIONS.join(',')}}`;
export const ZARR_MARKER_GLOB = '**/{.zgroup,.zarray,zarr.json}';

const sep = /[\\/]/;

/** Whether a path names a data file by its extension (a folder ending in .zarr is a store). */
export function isDataPath(path: string): boolean {
  const base = path.split(sep).filter(Boolean).pop() ?? '';
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
  return ext === 'zarr' || (DATA_EXTENSIONS as readonly string[]).includes(ext);
}

/** A .npy of ready model inputs: explained directly, without the data form. */
export function isReadyInputs(path: string): boolean {
  return /\.npy$/i.test(path);
}

/**
 * The Zarr stores among the marker files a workspace search found: the outermost folder holding a
 * marker (a store's arrays have markers of their own, which are not stores to offer).
 */
export function zarrStores(markers: string[]): string[] {
  const dirs = [...new Set(markers.map((m) => m.replace(/[\\/][^\\/]+$/, '')))].sort((a, b) => a.length - b.length);
  const stores: string[] = [];
  for (const d of dirs) if (!stores.some((s) => d === s || d.startsWith(s + '/') || d.startsWith(s + '\\'))) stores.push(d);
  return stores;
}

/**
 * Data files near a model first (its folder, then up), then the rest by path: the file the user means
 * is usually next to the model.
 */
export function byNearness(paths: string[], modelFile: string): string[] {
  const dirOf = (p: string) => p.replace(/[\\/][^\\/]*$/, '');
  const modelParts = dirOf(modelFile).split(sep);
  const shared = (p: string) => {
    const q = dirOf(p).split(sep);
    let k = 0;
    while (k < q.length && k < modelParts.length && q[k] === modelParts[k]) k++;
    return k;
  };
  return [...paths].sort((a, b) => shared(b) - shared(a) || a.localeCompare(b));
}
