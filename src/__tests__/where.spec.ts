import type { IDidInfo } from '../tokens';
import { nextSort, sortAndFilter, whereOf } from '../view/where';

describe('whereOf', () => {
  it('says the destination first, then disk, then tape', () => {
    expect(whereOf(null)).toBeNull();
    expect(
      whereOf({
        did: 'a:b',
        locations: [
          { rse: 'FAR_TAPE', files: 1, tape: true, bytes: 10 },
          { rse: 'LOCAL', files: 1, is_destination: true, bytes: 10 }
        ]
      })
    ).toEqual({ kind: 'destination', rses: ['LOCAL', 'FAR_TAPE'], bytes: 10 });
    expect(
      whereOf({
        did: 'a:b',
        locations: [
          { rse: 'FAR_TAPE', files: 1, tape: true },
          { rse: 'FAR_DISK', files: 1 }
        ]
      })?.kind
    ).toBe('disk');
    expect(
      whereOf({ did: 'a:b', locations: [{ rse: 'T', files: 1, tape: true }] })
        ?.kind
    ).toBe('tape');
    expect(
      whereOf({ did: 'a:b', locations: [{ rse: 'X', files: 0 }] })
    ).toEqual({ kind: 'nowhere', rses: [], bytes: null });
  });
});

describe('sortAndFilter', () => {
  const rows: IDidInfo[] = [
    { did: 'ns:b.txt', type: 'file', bytes: 5 },
    { did: 'ns:a.txt', type: 'file', bytes: 50 },
    { did: 'ns:c', type: 'dataset', bytes: null }
  ];

  it('sorts by name, type, size and where, both ways, stably', () => {
    const dids = (r: IDidInfo[]) => r.map(x => x.did);
    const asc = { key: 'did', direction: 'ascending' } as const;
    expect(dids(sortAndFilter(rows, '', asc))).toEqual([
      'ns:a.txt',
      'ns:b.txt',
      'ns:c'
    ]);
    expect(
      dids(sortAndFilter(rows, '', { key: 'bytes', direction: 'descending' }))
    ).toEqual(['ns:a.txt', 'ns:b.txt', 'ns:c']);
    expect(
      dids(sortAndFilter(rows, '', { key: 'type', direction: 'ascending' }))
    ).toEqual(['ns:c', 'ns:a.txt', 'ns:b.txt']);
    const where = (d: string) => (d === 'ns:c' ? 'destination' : null);
    expect(
      dids(
        sortAndFilter(rows, '', { key: 'where', direction: 'ascending' }, where)
      )
    ).toEqual(['ns:c', 'ns:a.txt', 'ns:b.txt']);
    expect(rows[0].did).toBe('ns:b.txt'); // the input is not reordered
  });

  it('filters by a part of the DID, ignoring case', () => {
    const asc = { key: 'did', direction: 'ascending' } as const;
    expect(sortAndFilter(rows, ' .TXT ', asc).map(r => r.did)).toEqual([
      'ns:a.txt',
      'ns:b.txt'
    ]);
    expect(sortAndFilter(rows, 'zzz', asc)).toEqual([]);
  });

  it('flips the direction on the same column, starts ascending on another', () => {
    expect(nextSort({ key: 'did', direction: 'ascending' }, 'did')).toEqual({
      key: 'did',
      direction: 'descending'
    });
    expect(nextSort({ key: 'did', direction: 'descending' }, 'bytes')).toEqual({
      key: 'bytes',
      direction: 'ascending'
    });
  });
});
