import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

/** The gettext domain of this extension's strings (its language packs use it). */
export const TRANSLATION_DOMAIN = 'srcstage_jlab';

/**
 * The extension's translation bundle. Every user-visible string goes through it:
 * `trans.__('Stage')`, `trans.__('%1 of %2', a, b)`, `trans._n('%1 file', '%1 files', n)` (in
 * `_n`, %1 is n itself and the further arguments are %2…: `trans._n('%2 files', …, n, formatCount(n))`).
 *
 * It is one module-level binding rather than a React context because strings are built
 * in the model and in helpers as well as in components; the plugin sets it once at
 * activation, before any widget renders, and the English `nullTranslator` stands in for
 * tests and for a JupyterLab without a translator.
 */
export let trans: TranslationBundle = nullTranslator.load(TRANSLATION_DOMAIN);

/** Called once by the plugin with JupyterLab's translator. */
export function setTranslator(translator: ITranslator | null): void {
  trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
}
