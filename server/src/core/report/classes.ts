/**
 * Which model output explains which class of the project's labels. With as many outputs as class
 * names the label is the output index; a model without a 'neutral' output (two outputs for La Nina /
 * neutral / El Nino labels) skips that class.
 */
import { LensError } from '../errors.js';

export interface ClassOutput {
  /** Label value (index into classNames). */
  label: number;
  name: string;
  /** Output index of the model, or -1 when the model has no output for this class. */
  output: number;
}

export function classOutputs(classNames: string[] | undefined, outputs: number, labelsSeen: number): ClassOutput[] {
  const names = classNames ?? Array.from({ length: Math.max(outputs, labelsSeen) }, (_, i) => `class ${i}`);
  if (names.length === outputs) return names.map((name, i) => ({ label: i, name, output: i }));
  const neutral = names.map((n, i) => (/neutral/i.test(n) ? i : -1)).filter((i) => i >= 0);
  if (names.length === outputs + 1 && neutral.length === 1) {
    let k = 0;
    return names.map((name, i) => ({ label: i, name, output: i === neutral[0] ? -1 : k++ }));
  }
  throw new LensError('SHAPE_MISMATCH', `the model has ${outputs} output(s) but the project names ${names.length} classes (${names.join(', ')}); give one class name per output`);
}
