/**
 * Stand-ins, in the function bundle only (infra/bundle.ts), for three modules got imports for
 * options the CoinGecko client never sets: `cacheable-request` (the `cache` option),
 * `cacheable-lookup` (`dnsCache`) and `http2-wrapper` (`http2`). got touches them only when its
 * caller asks for those options, so the function compiles ~100 KiB less at a cold start (issue 12).
 * Should a future option need one, it fails loudly here instead of misbehaving.
 */
const unbundled = (what: string): never => {
  throw new Error(`${what} is not in the function bundle (infra/bundle-shims/got-unused.ts)`);
};

/** `cacheable-request`: its default class and the error class got tests with instanceof. */
export class CacheError extends Error {}
export class CacheableRequest {
  constructor() {
    unbundled('cacheable-request (got option `cache`)');
  }
}

/** `cacheable-lookup`. */
export class CacheableLookup {
  constructor() {
    unbundled('cacheable-lookup (got option `dnsCache`)');
  }
}

/** `http2-wrapper`: what got reads of it. */
export const http2Wrapper = {
  get globalAgent(): never {
    return unbundled('http2-wrapper (got option `http2`)');
  },
  auto: (): never => unbundled('http2-wrapper (got option `http2`)'),
};
