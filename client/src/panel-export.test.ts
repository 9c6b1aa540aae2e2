/** The panel's export bytes: a NetCDF export is saved only when the server sent a NetCDF-3 file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeNetcdf3 } from '../../server/src/core/data/netcdf-write.js';
import { netcdfBytes } from './panel-export.js';

test('netcdfBytes passes the server\'s CDF-2 file through and refuses anything else', () => {
  const file = writeNetcdf3({ dims: [['x', 3]], vars: [{ name: 'relevance', dims: ['x'], type: 'float', data: [1, 2, 3] }] });
  const b64 = Buffer.from(file).toString('base64');
  assert.deepEqual(Array.from(netcdfBytes(b64)), Array.from(file));
  assert.throws(() => netcdfBytes(Buffer.from('\x89PNG\r\n\x1a\n' + 'x'.repeat(40)).toString('base64')), /NetCDF-3/);
  assert.throws(() => netcdfBytes(''), /NetCDF-3/);
});
