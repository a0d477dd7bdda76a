import { errorText, jobCode, pathsText, pyString } from '../actions';
import { SrcStageError } from '../api';

describe('using staged data', () => {
  it('writes code that opens the job with the Python API', () => {
    const code = jobCode({
      id: '6f1c-22',
      did: 'user.demo:tiles',
      collection_name: 'my\ntiles'
    });
    expect(code.split('\n')).toEqual([
      'import srcstage_jlab as srcstage',
      '',
      '# my tiles: staged by job 6f1c-22',
      'job = srcstage.job("6f1c-22")',
      'paths = job.paths()',
      'print(len(paths), "files staged, e.g.", paths[0] if paths else None)'
    ]);
  });

  it('quotes any id safely for Python', () => {
    expect(pyString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('puts one path per line on the clipboard', () => {
    expect(
      pathsText({
        did: 'd',
        missing: 0,
        paths: [
          { did: 'a:1', path: '/data/a/1', exists: true },
          { did: 'a:2', path: '/data/a/2', exists: true }
        ]
      })
    ).toBe('/data/a/1\n/data/a/2');
  });

  it('writes an error on one line with the SRCNet detail', () => {
    expect(
      errorText(
        new SrcStageError({
          message: 'Transfer failed.',
          detail: [{ msg: 'checksum' }, { msg: 'timeout' }],
          code: 'error'
        })
      )
    ).toBe('Transfer failed. (SRCNet: checksum; timeout)');
  });
});
