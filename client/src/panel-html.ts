/**
 * The panel page's HTML: the template from dist/webview/panel.html with a strict content security
 * policy (no remote content; scripts only with this page's nonce; styles and images only from the
 * extension). No vscode import, so the browser test builds the very same page.
 */
import { randomBytes } from 'node:crypto';

export interface PanelPageUris {
  /** webview.cspSource: the origin the webview serves extension files from. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function panelHtml(template: string, u: PanelPageUris): string {
  if (!/^[A-Za-z0-9]+$/.test(u.nonce)) throw new Error('nonce must be alphanumeric');
  const values: Record<string, string> = {
    csp: contentSecurityPolicy(u.cspSource, u.nonce),
    nonce: u.nonce,
    scriptUri: u.scriptUri,
    styleUri: u.styleUri,
  };
  return template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (k in values ? attr(values[k]) : m));
}
