/** The panel's Dates field: dates or a range in the CLI's syntax, anything else refused; the hint names the data's span. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dateFieldHint, parseDateField } from './date-field.js';

test('dates and ranges as the CLI takes them; malformed text is refused, empty clears', () => {
  assert.deepEqual(parseDateField('2015-12, 2016-01-15'), { dates: ['2015-12', '2016-01-15'] });
  assert.deepEqual(parseDateField(' 2015-01 : 2016-06 '), { timeRange: '2015-01:2016-06' });
  assert.deepEqual(parseDateField(''), {});
  for (const bad of ['Dec 2015', '2016-06:2015-01', '2015-01:2015-02:2015-03', '2015', '2015-1']) assert.equal(parseDateField(bad), undefined, bad);
  assert.equal(dateFieldHint({ first: '1980-01-01', last: '2018-12-01' }), '1980-01:2018-12 or 2018-12, …');
  assert.equal(dateFieldHint({}), 'YYYY-MM, … or FROM:TO');
});
