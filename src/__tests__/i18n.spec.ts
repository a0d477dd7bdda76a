/**
 * Every user-visible string of the sidebar goes through `trans` (src/i18n.ts), so a
 * language pack for the `srcstage_jlab` domain translates all of it. This reads the
 * components' source with the TypeScript parser and lists JSX text and user-facing
 * attributes (title, aria-label, placeholder, label) written as bare literals.
 */
/// <reference types="node" />
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { nullTranslator } from '@jupyterlab/translation';
import { setTranslator, trans, TRANSLATION_DOMAIN } from '../i18n';
import { lifetimeProblem } from '../units';

const USER_FACING_ATTRIBUTES = new Set([
  'title',
  'aria-label',
  'ariaLabel',
  'aria-description',
  'placeholder',
  'label',
  'badge',
  'alt'
]);

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== '__tests__') {
      files.push(...sourceFiles(full));
    } else if (entry.name.endsWith('.tsx')) {
      files.push(full);
    }
  }
  return files;
}

function untranslated(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.TSX
  );
  const found: string[] = [];
  const where = (node: ts.Node) =>
    `${path.basename(file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node) && /[A-Za-z]{2}/.test(node.text)) {
      found.push(`${where(node)} text “${node.text.trim()}”`);
    }
    if (
      ts.isJsxAttribute(node) &&
      USER_FACING_ATTRIBUTES.has(node.name.getText()) &&
      node.initializer &&
      ts.isStringLiteral(node.initializer) &&
      /[A-Za-z]{2}/.test(node.initializer.text)
    ) {
      found.push(
        `${where(node)} ${node.name.getText()}="${node.initializer.text}"`
      );
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('translations', () => {
  it('has no bare user-visible literal in any component', () => {
    const root = path.resolve(__dirname, '..');
    const files = sourceFiles(root);
    expect(files.length).toBeGreaterThan(5);
    expect(([] as string[]).concat(...files.map(untranslated))).toEqual([]);
  });

  it('finds a bare literal when there is one', () => {
    const probe = path.join(fs.mkdtempSync('/tmp/srcstage-i18n-'), 'Probe.tsx');
    fs.writeFileSync(
      probe,
      'export const A = () => <button title="Do it">{x} Stage</button>;\n'
    );
    expect(untranslated(probe)).toEqual([
      'Probe.tsx:1 title="Do it"',
      'Probe.tsx:1 text “Stage”'
    ]);
  });

  it('uses the translator the plugin was given, in helpers too', () => {
    const calls: string[] = [];
    // A test double wrapping the English bundle, not strings to extract.
    // eslint-disable-next-line jupyter/incorrect-translator-usage
    const _trans = nullTranslator.load(TRANSLATION_DOMAIN);
    setTranslator({
      languageCode: 'xx',
      load: (domain: string) => {
        calls.push(domain);
        return {
          ..._trans,
          __: (msgid: string, ...args: unknown[]) =>
            '«' + _trans.__(msgid, ...(args as string[])) + '»'
        } as typeof _trans;
      }
    });
    try {
      expect(calls).toEqual([TRANSLATION_DOMAIN]);
      expect(trans.__('Stage')).toBe('«Stage»');
      expect(lifetimeProblem(0)).toBe('«Enter a lifetime greater than zero.»');
    } finally {
      setTranslator(null);
    }
    expect(trans.__('Stage')).toBe('Stage');
  });
});
