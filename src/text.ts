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
