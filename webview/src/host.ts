/**
 * The page's one handle on its host (VS Code's webview API): messages out, and the state VS Code keeps
 * for the page across reloads. acquireVsCodeApi may be called once per page, so only here.
 */
import type { PanelState, ToHost } from './messages.js';

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

export const post = (m: ToHost): void => vscode.postMessage(m);

/** What the page kept before a reload, if anything. */
export const keptState = (): PanelState | undefined => vscode.getState() as PanelState | undefined;

export const keepState = (s: PanelState): void => vscode.setState(s);
