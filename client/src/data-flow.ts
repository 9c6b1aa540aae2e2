/**
 * Choosing the user's own data for a model: lrp-lens.json's data, the workspace's data files and Zarr
 * stores, or an open dialog for any file the CLI reads (or a store folder); then letting the server read
 * it (allowPaths). The commands that lead to the panel's data form (commands.ts) and the panel's own
 * "Choose…" button (panel.ts) both ask through here.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Method } from '../../server/src/protocol.js';
import { DATA_FILTERS, DATA_GLOB, ZARR_MARKER_GLOB, byNearness, zarrStores } from './data-files.js';

type DataItem = vscode.QuickPickItem & { uri?: vscode.Uri; project?: boolean; browse?: 'file' | 'zarr' };

/** What the user chose: a data file or store, lrp-lens.json's data ('project'), or nothing (backed out). */
export type DataChoice = { uri: vscode.Uri } | 'project' | undefined;

/**
 * Ask for the data to explain `model` on: lrp-lens.json's data (when there is a project file), the
 * workspace's data files and Zarr stores (nearest the model first), or a file or store from a dialog.
 */
export async function chooseData(model: { file: string; label: string } | undefined, offerProject = true): Promise<DataChoice> {
  const skip = '**/{node_modules,.git}/**';
  const [project, files, markers] = await Promise.all([
    vscode.workspace.findFiles('**/lrp-lens.json', skip, 1),
    vscode.workspace.findFiles(DATA_GLOB, skip, 2000),
    vscode.workspace.findFiles(ZARR_MARKER_GLOB, skip, 2000),
  ]);
  const stores = zarrStores(markers.map((u) => u.fsPath)).map((p) => vscode.Uri.file(p));
  // Files inside a Zarr store are its chunks, not data files of their own.
  const inStore = (u: vscode.Uri) => stores.some((s) => u.fsPath.startsWith(s.fsPath + '/') || u.fsPath.startsWith(s.fsPath + '\\'));
  const paths = byNearness([...files.filter((u) => !inStore(u)), ...stores].map((u) => u.fsPath), model?.file ?? '');
  const items: DataItem[] = [];
  if (offerProject && project.length > 0) items.push({ label: 'Data from lrp-lens.json', description: vscode.workspace.asRelativePath(project[0]), project: true });
  items.push({ label: 'Choose a data file…', description: 'NetCDF, .npy/.npz, CSV, images', browse: 'file' });
  items.push({ label: 'Choose a Zarr store (folder)…', browse: 'zarr' });
  if (paths.length) items.push({ label: 'In this workspace', kind: vscode.QuickPickItemKind.Separator });
  for (const p of paths) items.push({ label: vscode.workspace.asRelativePath(p), uri: vscode.Uri.file(p) });
  const pick = await vscode.window.showQuickPick(items, {
    title: model ? `LRP Lens: data to explain ${model.label} on` : 'LRP Lens: data to explain',
    placeHolder: 'A data file (a NetCDF field, a Zarr store, ...) or a .npy of model inputs',
    matchOnDescription: true,
  });
  if (!pick) return undefined;
  if (pick.project) return 'project';
  if (pick.uri) return { uri: pick.uri };
  const chosen = await browseData(pick.browse === 'zarr');
  return chosen ? { uri: chosen } : undefined;
}

/** An open dialog for a data file (every format the CLI reads) or a Zarr store folder. */
export async function browseData(folder: boolean): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    canSelectFiles: !folder,
    canSelectFolders: folder,
    openLabel: folder ? 'Use this Zarr store' : 'Use this data file',
    title: folder ? 'LRP Lens: a Zarr store (the folder with .zgroup or zarr.json)' : 'LRP Lens: a data file',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    ...(folder ? {} : { filters: DATA_FILTERS }),
  });
  return picked?.[0];
}

/** The server reads no path outside the workspace folders unless the user picked it: tell it this one. */
export async function allowData(client: LanguageClient, uri: vscode.Uri): Promise<void> {
  await client.sendRequest(Method.allowPaths, { paths: [uri.fsPath] });
}
