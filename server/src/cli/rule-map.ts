/** `--rules FILE|SPEC` of explain and check: a JSON rules file, inline JSON, or the compact spec syntax. */
import { existsSync } from 'node:fs';
import { LensError } from '../core/errors.js';
import { readRegular } from '../core/data/regular-file.js';
import { type RuleMapEntry, parseRuleMap, validateRuleMap } from '../core/lrp/composites.js';

export async function readRuleMap(spec: string | undefined): Promise<RuleMapEntry[]> {
  if (spec === undefined) return [];
  if (existsSync(spec)) {
    // Through the readers' regular-file check: a rules "file" that is /dev/zero or a FIFO is refused.
    const text = new TextDecoder().decode(await readRegular(spec, 'projectBytes'));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new LensError('BAD_JSON', `rules file is not valid JSON: ${(e as Error).message}`, { file: spec });
    }
    return validateRuleMap(value);
  }
  if (spec.trim().startsWith('[') || spec.trim().startsWith('{')) {
    try {
      return validateRuleMap(JSON.parse(spec));
    } catch (e) {
      if (e instanceof LensError) throw e;
      throw new LensError('USAGE', `--rules is neither a file nor valid JSON: ${(e as Error).message}`);
    }
  }
  return parseRuleMap(spec);
}
