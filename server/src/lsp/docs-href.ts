/**
 * Where a finding's or an error code's documentation is shown from: the client's docsBaseUrl, the
 * pages on disk (a checkout or the installed extension), or the repository on the web.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rewriteDocsLink, localDocsLink, docsLink, REPOSITORY_URL, DOCS_BRANCH } from '../core/artifacts/docs-link.js';
import type { DocsHref } from './convert.js';

/** The folder holding docs/findings above this module (source, out/ or the bundle), if any. */
export function findDocsRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'docs', 'findings'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

export function docsHrefFor(docsRoot: string | undefined, docsBaseUrl: () => string | undefined): DocsHref {
  return (link, code) => {
    if (!/^LRP\d+$/.test(code)) {
      // Error codes (CONFIG_ERROR, BAD_JSON, ...) share one page.
      const local = docsRoot && join(docsRoot, 'docs', 'errors.md');
      return local && existsSync(local) ? `${pathToFileURL(local).href}#${code.toLowerCase()}` : `${REPOSITORY_URL}/blob/${DOCS_BRANCH}/docs/errors.md#${code.toLowerCase()}`;
    }
    const base = docsBaseUrl();
    if (base) return `${base}${code}.md`;
    if (docsRoot && existsSync(join(docsRoot, 'docs', 'findings', `${code}.md`))) return link ? rewriteDocsLink(link, docsRoot) : localDocsLink(code, docsRoot);
    return link || docsLink(code);
  };
}
