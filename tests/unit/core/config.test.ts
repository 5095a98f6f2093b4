import { CONFIG_KEYS, ConfigError, parseConfig } from '../../../functions/src/config.js';

const gcp = {
  GCP_PROJECT: 'p',
  RAW_BUCKET: 'b',
  EVENTS_TOPIC: 't',
  BQ_DATASET: 'd',
  BQ_LOCATION: 'EU',
};

describe('parseConfig', () => {
  it('applies defaults that fit the keyless plan', () => {
    const c = parseConfig({ PIPELINE_ENGINE: 'local' });
    expect(c.coingecko).toMatchObject({
      plan: 'keyless',
      baseUrl: 'https://api.coingecko.com',
      apiKey: undefined,
    });
    expect(c).toMatchObject({
      vsCurrency: 'usd',
      coinLimit: 250,
      perPage: 250,
      cadenceMinutes: 15,
      dataDir: '.data',
    });
  });

  it('picks the plan host and coerces numbers', () => {
    const c = parseConfig({ ...gcp, COINGECKO_PLAN: 'pro', COINGECKO_API_KEY: 'k', COIN_LIMIT: '500' });
    expect(c.coingecko.baseUrl).toBe('https://pro-api.coingecko.com');
    expect(c.coingecko.callsPerMinute).toBe(500);
    expect(c.coinLimit).toBe(500);
    expect(c.gcp).toEqual({
      project: 'p',
      bucket: 'b',
      topic: 't',
      dataset: 'd',
      location: 'EU',
      pubsub: { baseUrl: 'https://pubsub.googleapis.com', authenticated: true },
      storage: { baseUrl: 'https://storage.googleapis.com/storage/v1', authenticated: true },
    });
  });

  it('reads the lake from a Cloud Storage emulator without a token', () => {
    const c = parseConfig({ ...gcp, STORAGE_EMULATOR_HOST: 'http://localhost:4443/' });
    expect(c.gcp!.storage).toEqual({ baseUrl: 'http://localhost:4443/storage/v1', authenticated: false });
    expect(parseConfig({ ...gcp, STORAGE_EMULATOR_HOST: 'localhost:4443' }).gcp!.storage.baseUrl).toBe(
      'http://localhost:4443/storage/v1',
    );
    expect(() => parseConfig({ ...gcp, STORAGE_EMULATOR_HOST: 'not a host' })).toThrow(
      /STORAGE_EMULATOR_HOST/,
    );
  });

  it('publishes to a locational Pub/Sub endpoint with credentials, and to an emulator without', () => {
    const endpoint = parseConfig({
      ...gcp,
      PUBSUB_API_ENDPOINT: 'https://europe-west1-pubsub.googleapis.com/',
    });
    expect(endpoint.gcp!.pubsub).toEqual({
      baseUrl: 'https://europe-west1-pubsub.googleapis.com',
      authenticated: true,
    });
    const emulator = parseConfig({ ...gcp, PUBSUB_EMULATOR_HOST: 'localhost:8085' });
    expect(emulator.gcp!.pubsub).toEqual({ baseUrl: 'http://localhost:8085', authenticated: false });
    expect(() => parseConfig({ ...gcp, PUBSUB_EMULATOR_HOST: 'http://localhost:8085' })).toThrow(
      /PUBSUB_EMULATOR_HOST: host:port/,
    );
    expect(() =>
      parseConfig({
        ...gcp,
        PUBSUB_EMULATOR_HOST: 'localhost:8085',
        PUBSUB_API_ENDPOINT: 'https://x.example',
      }),
    ).toThrow(/set either it or PUBSUB_API_ENDPOINT, not both/);
  });

  it('treats empty strings as unset', () => {
    const c = parseConfig({ PIPELINE_ENGINE: 'local', VS_CURRENCY: '', COIN_LIMIT: '  ' });
    expect(c.vsCurrency).toBe('usd');
    expect(c.coinLimit).toBe(250);
  });

  it('lists every problem in one error', () => {
    let error: unknown;
    try {
      parseConfig({ COINGECKO_PLAN: 'demo', PER_PAGE: '500', CADENCE_MINUTES: '7', RAW_BUCKET: '' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of [
      'COINGECKO_API_KEY',
      'PER_PAGE',
      'CADENCE_MINUTES',
      'GCP_PROJECT',
      'RAW_BUCKET',
      'BQ_LOCATION',
    ]) {
      expect(problems).toContain(key);
    }
    expect((error as ConfigError).retryable).toBe(false);
  });

  it('names the value it could not use, but never the key', () => {
    const problems = (values: Record<string, string>) => {
      try {
        parseConfig({ PIPELINE_ENGINE: 'local', ...values });
      } catch (e) {
        return (e as ConfigError).problems.join('\n');
      }
      return '';
    };
    expect(problems({ COIN_LIMIT: 'abc' })).toMatch(/^COIN_LIMIT: .* \(got "abc"\)$/);
    expect(problems({ COINGECKO_PLAN: 'gold', COINGECKO_API_KEY: 'secret-key' })).toContain('(got "gold")');
    expect(problems({ COINGECKO_BASE_URL: 'not a url', COINGECKO_API_KEY: 'secret-key' })).not.toContain(
      'secret-key',
    );
  });

  it('exposes exactly the variables it reads', () => {
    expect(CONFIG_KEYS).toEqual(expect.arrayContaining(['COINGECKO_PLAN', 'RAW_BUCKET', 'CADENCE_MINUTES']));
    expect(() => parseConfig({ PIPELINE_ENGINE: 'local', UNRELATED: 'x' })).not.toThrow();
  });
});

describe('quote currencies (VS_CURRENCIES, VS_CURRENCY)', () => {
  const local = { PIPELINE_ENGINE: 'local' };
  const problemsOf = (env: Record<string, string>) => {
    try {
      parseConfig({ ...local, ...env });
    } catch (e) {
      return (e as ConfigError).problems;
    }
    return [];
  };

  it('defaults to usd; VS_CURRENCY alone is a list of one', () => {
    expect(parseConfig(local)).toMatchObject({ vsCurrency: 'usd', vsCurrencies: ['usd'] });
    expect(parseConfig({ ...local, VS_CURRENCY: 'eur' })).toMatchObject({
      vsCurrency: 'eur',
      vsCurrencies: ['eur'],
    });
  });

  it('VS_CURRENCIES lists them in order; the first is the default currency', () => {
    expect(parseConfig({ ...local, VS_CURRENCIES: ' usd, eur ,gbp' })).toMatchObject({
      vsCurrency: 'usd',
      vsCurrencies: ['usd', 'eur', 'gbp'],
    });
    expect(parseConfig({ ...local, VS_CURRENCIES: 'eur,usd', VS_CURRENCY: 'usd' }).vsCurrencies).toEqual([
      'eur',
      'usd',
    ]);
    expect(parseConfig({ ...local, VS_CURRENCIES: '' }).vsCurrencies).toEqual(['usd']);
  });

  it('one error lists every currency problem with the rest', () => {
    expect(problemsOf({ VS_CURRENCIES: 'usd,EUR,,usd', VS_CURRENCY: 'jpy', COIN_LIMIT: 'x' })).toEqual([
      expect.stringMatching(/^COIN_LIMIT: .*\(got "x"\)$/),
      'VS_CURRENCIES: lower-case currency codes separated by commas, such as usd,eur (got "usd,EUR,,usd"; not codes: "EUR", "")',
      'VS_CURRENCIES: usd listed twice',
      'VS_CURRENCY (jpy) is not in VS_CURRENCIES (usd,EUR,,usd): set one of them, or list it',
    ]);
  });

  it('VS_CURRENCIES is one of the keys infra sets', () => {
    expect(CONFIG_KEYS).toContain('VS_CURRENCIES');
  });
});
