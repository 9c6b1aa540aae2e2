/**
 * Where a finding's documentation page lives. One constant for the repository URL so the server can
 * rewrite links to local files (see `localDocsLink`) without knowing any single check.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

/** The repository's web address; pages are docs/findings/<CODE>.md on its default branch. */
export const REPOSITORY_URL = 'https://github.com/lrp-lens/lrp-lens';
export const DOCS_BRANCH = 'main';

export function docsLink(code: string): string {
  return `${REPOSITORY_URL}/blob/${DOCS_BRANCH}/docs/findings/${code}.md`;
}

/** The same page as a file URL inside a checkout (for the server and offline use). */
export function localDocsLink(code: string, repoRoot: string): string {
  return pathToFileURL(join(repoRoot, 'docs', 'findings', `${code}.md`)).href;
}

/** Rewrite a docs link produced by `docsLink` to the local checkout; other links pass unchanged. */
export function rewriteDocsLink(link: string, repoRoot: string): string {
  const prefix = `${REPOSITORY_URL}/blob/${DOCS_BRANCH}/docs/findings/`;
  if (!link.startsWith(prefix)) return link;
  return localDocsLink(link.slice(prefix.length).replace(/\.md$/, ''), repoRoot);
}
