/** Findings as CSV (RFC 4180 quoting), for the panel's "export findings" button and the CLI. */
import type { Finding } from '../artifacts/finding.js';

const COLUMNS = ['code', 'severity', 'layer', 'layerIndex', 'message', 'remedy', 'file', 'docs', 'data'] as const;

function cell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function findingsToCsv(findings: Finding[]): string {
  const rows = [COLUMNS.join(',')];
  for (const f of findings) {
    rows.push([
      f.code, f.severity, f.layer?.name, f.layer?.index, f.message, f.remedy, f.location.file, f.docs,
      f.data ? JSON.stringify(f.data) : '',
    ].map(cell).join(','));
  }
  return rows.join('\r\n') + '\r\n';
}
