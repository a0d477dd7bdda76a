import { trans } from './i18n';

/**
 * Text shortening for narrow places: DIDs and names cut in the middle (their
 * distinctive end stays), short job ids, paths that break at `/`.
 */

export const ELLIPSIS = '…';

/** The parts of a middle-cut text: `head + '…' + tail`, or the whole text. */
export interface IMiddleCut {
  head: string;
  tail: string;
  /** True when something was left out between `head` and `tail`. */
  cut: boolean;
}

/**
 * Cut `text` in the middle so that `fits(head + '…' + tail)` holds, keeping
 * as much as possible; `tailShare` of what is kept comes from the end (the
 * end of a DID is what differs between files: `….vis-03.csv`).
 */
export function middleCut(
  text: string,
  fits: (candidate: string) => boolean,
  tailShare = 0.65
): IMiddleCut {
  if (fits(text)) {
    return { head: text, tail: '', cut: false };
  }
  const chars = Array.from(text); // do not split surrogate pairs
  const split = (k: number): IMiddleCut => {
    const tailLen = Math.min(k, Math.max(1, Math.ceil(k * tailShare)));
    const headLen = k - tailLen;
    return {
      head: chars.slice(0, headLen).join(''),
      tail: chars.slice(chars.length - tailLen).join(''),
      cut: true
    };
  };
  // The longest kept length that fits (widths grow with k).
  let lo = 0;
  let hi = chars.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const c = split(mid);
    if (fits(c.head + ELLIPSIS + c.tail)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return split(lo);
}

/** `middleCut` with a character budget (tests, and places without layout). */
export function middleEllipsis(
  text: string,
  maxChars: number,
  tailShare?: number
): string {
  const c = middleCut(text, s => Array.from(s).length <= maxChars, tailShare);
  return c.cut ? c.head + ELLIPSIS + c.tail : c.head;
}

/** The first 8 characters of a job id (a UUID is unique enough by then). */
export function shortId(id: string, length = 8): string {
  return id.length > length + 1 ? id.slice(0, length) : id;
}

/**
 * Split `text` after each of `separators`, so that a line break can go
 * there (`<wbr>` between the parts) instead of in the middle of a word.
 */
export function breakParts(text: string, separators = '/'): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (separators.includes(text[i]) && i + 1 < text.length) {
      parts.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const NAME_SEPARATORS = ':/.-_';

/** The namespace every DID of the list shares (`ska-mid`), or undefined. */
export function sharedNamespace(dids: string[]): string | undefined {
  if (!dids.length) {
    return undefined;
  }
  const first = dids[0].split(':')[0];
  return dids.every(d => d.includes(':') && d.split(':')[0] === first)
    ? first
    : undefined;
}

/**
 * Where the names of a list start to differ, moved back to the start of that
 * word (`obs-2026-0001.vis-01.csv` and `obs-2026-0002.vis-01.csv` differ from
 * `0001`/`0002`, index 9); 0 for fewer than two names.
 */
export function differingFrom(names: string[]): number {
  if (names.length < 2) {
    return 0;
  }
  let common = names[0].length;
  for (const name of names) {
    let i = 0;
    while (i < common && i < name.length && name[i] === names[0][i]) {
      i++;
    }
    common = i;
  }
  while (common > 0 && !NAME_SEPARATORS.includes(names[0][common - 1])) {
    common--;
  }
  return common;
}

/**
 * Like `middleCut`, but what differs between the names of a list (from
 * `keepFrom` on) is kept first: the shared start is cut before anything else
 * (`obs…0001.vis-01.csv`, or `…0001.vis-01.csv`).
 */
export function distinctCut(
  text: string,
  keepFrom: number,
  fits: (candidate: string) => boolean,
  tailShare?: number
): IMiddleCut {
  if (keepFrom <= 0 || keepFrom >= text.length || fits(text)) {
    return middleCut(text, fits, tailShare);
  }
  const rest = text.slice(keepFrom);
  for (let h = keepFrom - 1; h >= 0; h--) {
    const head = text.slice(0, h);
    if (fits(head + ELLIPSIS + rest)) {
      return { head, tail: rest, cut: true };
    }
  }
  // The differing word opens `rest`: keep mostly its start.
  const inner = middleCut(rest, s => fits(ELLIPSIS + s), 0.25);
  return inner.cut
    ? { head: ELLIPSIS + inner.head, tail: inner.tail, cut: true }
    : { head: '', tail: rest, cut: true };
}

// The DID grammar the DM (Rucio) applies; the server's answer still has the last word.
const NAMESPACE_RE = /^[A-Za-z0-9][A-Za-z0-9.\-_]*$/;
const PATTERN_RE = /^[/A-Za-z0-9.\-_*]+$/;
export const MAX_NAMESPACE_LENGTH = 25;

/** Why `namespace` cannot be an SRCNet namespace, or null. */
export function namespaceProblem(namespace: string): string | null {
  if (namespace.length > MAX_NAMESPACE_LENGTH) {
    return trans.__(
      '“%1” is not a namespace: a namespace has at most %2 characters.',
      namespace,
      MAX_NAMESPACE_LENGTH
    );
  }
  if (!NAMESPACE_RE.test(namespace)) {
    return trans.__(
      '“%1” is not a namespace: a namespace is letters, digits, “.”, “-” and “_”, starting with a letter or digit (no spaces).',
      namespace
    );
  }
  return null;
}

/** Why `pattern` cannot match any DID name, or null. */
export function patternProblem(pattern: string): string | null {
  if (pattern && !PATTERN_RE.test(pattern)) {
    return trans.__(
      '“%1” cannot match a DID name: names are letters, digits, “/”, “.”, “-” and “_” (no spaces); “*” matches anything.',
      pattern
    );
  }
  return null;
}
