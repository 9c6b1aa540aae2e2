/**
 * The heat-map panel's page. Talks only to its host through postMessage (validated both ways); the host
 * forwards requests to the language server. State that should survive a reload goes to vscode.setState.
 * This module wires the parts: state.ts (what is chosen and shown), requests.ts (messages to and from
 * the host), views.ts and the *-view.ts modules (the tabs' drawing), controls.ts (the form) and export.ts.
 */
// The web components first: the controls set their properties, which must be the components' own.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { post } from './host.js';
import { panel } from './state.js';
import { TAB, cellCentre, onPickSample, renderAll } from './views.js';
import { applyStateToControls, bindControls, selectTab, setSample } from './controls.js';
import { bindExport } from './export.js';
import { bindDataForm, cancelAll, checkData, onMessage, openDataForm, recompute, runCompare } from './requests.js';

onPickSample((k) => { setSample(k); selectTab(TAB.sample); });
bindControls({ recompute, runCompare, cancelAll, checkData, openDataForm });
bindDataForm();
bindExport();

window.addEventListener('message', (e) => onMessage(e.data));
let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => { if (panel.main) renderAll(); }, 100);
});
applyStateToControls();
post({ type: 'ready', state: panel.state });

/** For tests and debugging: the cell under a map point. */
(window as unknown as Record<string, unknown>).__lrpPanel = { cellCentre };
