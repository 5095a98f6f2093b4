import {
  decodeRawObject,
  encodeRawObject,
  type RawManifest,
} from '../../../functions/src/core/raw-object.js';

const manifest: RawManifest = {
  schemaVersion: 1,
  runId: 'coingecko_usd_20261121T050000Z',
  source: 'coingecko',
  endpoint: '/api/v3/coins/markets',
  vsCurrency: 'usd',
  slot: '2026-11-21T05:00:00.000Z',
  market: 'test',
  request: { coinLimit: 2, perPage: 1 },
  pages: [],
  recordCount: 2,
  extractedAt: '2026-11-21T05:00:01.000Z',
};

describe('raw object', () => {
  it('keeps every page body byte for byte', () => {
    const pages = [
      Buffer.from('[{"id":"a","total_supply":2.1e+15}]'),
      Buffer.from('[ {"id":"b","x":-6.0e-05} ]'),
    ];
    const bytes = encodeRawObject(manifest, pages);
    const text = bytes.toString('utf8');
    expect(text).toContain(pages[0]!.toString());
    expect(text).toContain(pages[1]!.toString());
    const decoded = decodeRawObject(bytes);
    expect(decoded.manifest).toEqual(manifest);
    expect(decoded.pages).toEqual([[{ id: 'a', total_supply: 2.1e15 }], [{ id: 'b', x: -6e-5 }]]);
  });

  it('says what is wrong with an object that is not a raw object', () => {
    expect(() => decodeRawObject(Buffer.from('{"manifest":'))).toThrow(/not JSON/);
    expect(() => decodeRawObject(Buffer.from('{"pages":[]}'))).toThrow(/unexpected shape at manifest/);
  });
});
