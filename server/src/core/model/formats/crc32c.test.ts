import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, maskCrc, unmaskCrc } from './crc32c.js';

test('crc32c matches the published check values', () => {
  // RFC 3720 (iSCSI) B.4 test vectors and the common "123456789" check value.
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
  assert.equal(crc32c(inc), 0x46dd794e);
  // Continuing a CRC equals the CRC of the concatenation.
  assert.equal(crc32c(inc.subarray(10), crc32c(inc.subarray(0, 10))), 0x46dd794e);
});

test('mask and unmask are inverse and the mask changes the value', () => {
  for (const c of [0, 1, 0xe3069283, 0xffffffff]) {
    assert.equal(unmaskCrc(maskCrc(c)), c);
    assert.notEqual(maskCrc(c), c);
  }
});
