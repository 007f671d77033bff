// docs/ARCHITECTURE.md stays true to the tree: every repository path it names in backticks exists,
// and every top-level folder of src/, every store migration and every detector is mentioned. A
// rename, a new stage folder, a new migration or a new detector fails here until the document says
// so.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOC = readFileSync(path.join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
const CHECKED_ROOTS = ['src', 'detectors', 'dashboards', 'bench', 'pipelines', 'test'];

/** Every backticked span of the document that names a path under one of the checked roots. */
function namedPaths(doc: string): string[] {
  const spans = [...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return [...new Set(spans.filter((s) => CHECKED_ROOTS.some((r) => s.startsWith(`${r}/`)) && !/\s/.test(s)))];
}

/**
 * The part of a named path that must exist: up to the first placeholder segment (`<name>`), so
 * `detectors/<name>/README.md` requires `detectors/`.
 */
function existingPart(named: string): string {
  const segments = named.replace(/\/$/, '').split('/');
  const placeholder = segments.findIndex((s) => s.includes('<'));
  return (placeholder === -1 ? segments : segments.slice(0, placeholder)).join('/');
}

const dirs = (dir: string) =>
  readdirSync(path.join(ROOT, dir)).filter((f) => statSync(path.join(ROOT, dir, f)).isDirectory());

describe('docs/ARCHITECTURE.md', () => {
  const named = namedPaths(DOC);

  it('names paths (the check below has something to check)', () => {
    expect(named.length).toBeGreaterThan(100);
  });

  it('names only paths that exist', () => {
    const missing = named.filter((p) => !existsSync(path.join(ROOT, existingPart(p))));
    expect(missing).toEqual([]);
  });

  it('names a folder with a trailing slash only when it is a folder, a file without one', () => {
    const wrong = named
      .filter((p) => !p.includes('<') && existsSync(path.join(ROOT, p)))
      .filter((p) => statSync(path.join(ROOT, p)).isDirectory() !== p.endsWith('/'));
    expect(wrong).toEqual([]);
  });

  it('mentions every top-level folder of src/', () => {
    const folders = dirs('src');
    expect(folders.length).toBeGreaterThan(5);
    const unmentioned = folders.filter((f) => !named.includes(`src/${f}/`));
    expect(unmentioned).toEqual([]);
  });

  it('mentions every store migration', () => {
    const migrations = readdirSync(path.join(ROOT, 'src/store/migrations')).filter((f) => f.endsWith('.sql'));
    expect(migrations.length).toBeGreaterThan(0);
    const unmentioned = migrations.filter((m) => !DOC.includes(`\`${m}\``));
    expect(unmentioned).toEqual([]);
  });

  it('mentions every detector folder', () => {
    const detectors = dirs('detectors').filter((d) => d !== 'shared');
    expect(detectors.length).toBeGreaterThan(0);
    const unmentioned = detectors.filter((d) => !named.includes(`detectors/${d}/`));
    expect(unmentioned).toEqual([]);
  });

  it('is what the README links to, and nothing points outside the repository', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('(docs/ARCHITECTURE.md)');
    expect(readme).not.toContain('../shared/ARCHITECTURE.md');
    expect(DOC).not.toContain('../shared');
  });
});
