/** Element lookup, event binding and the page's status line and progress bar. */

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
export type ValueEl = HTMLElement & { value: string; disabled: boolean };
export type CheckEl = HTMLElement & { checked: boolean; disabled: boolean };

export function on(id: string, ev: string, fn: (el: ValueEl & CheckEl) => void): void {
  $(id).addEventListener(ev, (e) => fn(e.currentTarget as ValueEl & CheckEl));
}

export function setStatus(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

/** Shows or hides the progress bar (indeterminate until a percentage comes) and enables Cancel while busy. */
export function busy(on: boolean, message?: string): void {
  const bar = $('progress') as HTMLElement & { value?: number; indeterminate: boolean };
  bar.hidden = !on;
  if (on) { bar.indeterminate = true; bar.value = undefined; }
  $<ValueEl>('cancel').disabled = !on;
  $('app').setAttribute('aria-busy', String(on));
  if (message !== undefined) setStatus(message);
}

export function showProgress(percentage: number | undefined, message: string | undefined): void {
  const bar = $('progress') as HTMLElement & { value?: number; indeterminate: boolean; max: number };
  if (percentage !== undefined) { bar.indeterminate = false; bar.max = 100; bar.value = percentage; }
  if (message) setStatus(message);
}
