/** Escaping text for the SVG layers of the PNG figures and for the report's HTML page. */

/** Text and double-quoted attribute values in SVG/XML. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** HTML text and attribute values, single-quoted ones too. */
export function escapeHtml(s: string): string {
  return escapeXml(s).replace(/'/g, '&#39;');
}
