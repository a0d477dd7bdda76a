/**
 * Pure helpers of the main-area view's tables: where a DID is now (from
 * `locate`), sorting and filtering the rows.
 */
import type { ILocations, IDidInfo } from '../tokens';

/** Where a DID's data is now, best first: the destination, disk, tape only. */
export type WhereKind = 'destination' | 'disk' | 'tape' | 'nowhere';

export interface IWhereSummary {
  kind: WhereKind;
  /** The RSEs holding a copy, destination first. */
  rses: string[];
  /** The DID's size, as the largest copy the DM counted (null: not said). */
  bytes: number | null;
}

/** What a locate answer says about one DID. */
export function whereOf(located: ILocations | null): IWhereSummary | null {
  if (!located) {
    return null;
  }
  const held = located.locations.filter(l => (l.files ?? 1) > 0);
  const rank = (l: { is_destination?: boolean; tape?: boolean }) =>
    l.is_destination ? 0 : l.tape ? 2 : 1;
  const rses = [...held].sort((a, b) => rank(a) - rank(b)).map(l => l.rse);
  let kind: WhereKind = 'nowhere';
  if (held.some(l => l.is_destination)) {
    kind = 'destination';
  } else if (held.some(l => !l.tape)) {
    kind = 'disk';
  } else if (held.length) {
    kind = 'tape';
  }
  const sizes = held
    .map(l => l.bytes)
    .filter((b): b is number => typeof b === 'number');
  return { kind, rses, bytes: sizes.length ? Math.max(...sizes) : null };
}

/** Order of the kinds when a table sorts by "where" (unknown last). */
const WHERE_ORDER: Record<WhereKind, number> = {
  destination: 0,
  disk: 1,
  tape: 2,
  nowhere: 3
};

export type SortKey = 'did' | 'type' | 'bytes' | 'where';
export type SortDirection = 'ascending' | 'descending';

export interface ISort {
  key: SortKey;
  direction: SortDirection;
}

/**
 * The rows whose DID contains `filter` (case-insensitive), sorted; ties keep
 * DID order so that a sort is stable across polls.
 */
export function sortAndFilter(
  rows: readonly IDidInfo[],
  filter: string,
  sort: ISort,
  whereKind: (did: string) => WhereKind | null = () => null
): IDidInfo[] {
  const needle = filter.trim().toLowerCase();
  const kept = needle
    ? rows.filter(r => r.did.toLowerCase().includes(needle))
    : [...rows];
  const sign = sort.direction === 'ascending' ? 1 : -1;
  const byDid = (a: IDidInfo, b: IDidInfo) =>
    a.did < b.did ? -1 : a.did > b.did ? 1 : 0;
  const value = (r: IDidInfo): number | string => {
    switch (sort.key) {
      case 'type':
        return r.type ?? '';
      case 'bytes':
        return r.bytes ?? -1;
      case 'where': {
        const kind = whereKind(r.did);
        return kind === null ? 9 : WHERE_ORDER[kind];
      }
      default:
        return r.did;
    }
  };
  return kept.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    const c = va < vb ? -1 : va > vb ? 1 : 0;
    return c !== 0 ? sign * c : byDid(a, b);
  });
}

/** The next sort after a click on column `key`: same column flips, another starts ascending. */
export function nextSort(current: ISort, key: SortKey): ISort {
  if (current.key === key) {
    return {
      key,
      direction: current.direction === 'ascending' ? 'descending' : 'ascending'
    };
  }
  return { key, direction: 'ascending' };
}
