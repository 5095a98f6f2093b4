import { describe, expect, it } from '@jest/globals';
import CacheableLookup from '../../../infra/bundle-shims/got/cacheable-lookup.js';
import CacheableRequest, { CacheError } from '../../../infra/bundle-shims/got/cacheable-request.js';
import http2 from '../../../infra/bundle-shims/got/http2-wrapper.js';

/**
 * The function bundle replaces got's cache, DNS-cache and HTTP/2 modules (infra/bundle.ts): should a
 * change ever set one of those got options, the function must fail saying so, not misbehave.
 */
describe('stand-ins for the got modules the function bundle leaves out', () => {
  it('fail loudly, naming the got option, when used', () => {
    expect(() => new CacheableRequest()).toThrow(/cacheable-request \(got option `cache`\)/);
    expect(() => new CacheableLookup()).toThrow(/got option `dnsCache`/);
    expect(() => http2.auto()).toThrow(/got option `http2`/);
    expect(() => http2.globalAgent).toThrow(/got option `http2`/);
  });

  it('keep the error class got tests with instanceof', () => {
    expect(new CacheError('x')).toBeInstanceOf(Error);
  });
});
