import { createRedactor, redactError, REDACTED } from '../../../functions/src/core/redact.js';
import { ExtractError } from '../../../functions/src/extract/errors.js';

const KEY = 'CG-a/b+c d=e&f';
const r = createRedactor([KEY]);

describe('createRedactor', () => {
  test.each([
    ['verbatim', KEY],
    ['URL-encoded', 'CG-a%2Fb%2Bc%20d%3De%26f'],
    ['URL-encoded, lower-case escapes', 'CG-a%2fb%2bc%20d%3de%26f'],
    ['form-encoded', 'CG-a%2Fb%2Bc+d%3De%26f'],
    ['encodeURI', 'CG-a/b+c%20d=e&f'],
    ['JSON-escaped solidus', 'CG-a\\/b+c d=e&f'],
  ])('removes the key %s', (_, form) => {
    expect(r.text(`before ${form} after`)).toBe(`before ${REDACTED} after`);
    expect(r.bytes(Buffer.from(`<${form}><${form}>`)).toString()).toBe(`<${REDACTED}><${REDACTED}>`);
  });

  test('keeps bytes that are not UTF-8 as they are', () => {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(KEY), Buffer.from([0xc3])]);
    expect(r.bytes(body)).toEqual(
      Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(REDACTED), Buffer.from([0xc3])]),
    );
    const clean = Buffer.from([0xff, 0x01]);
    expect(r.bytes(clean)).toBe(clean);
  });

  test('redacts strings anywhere in plain values', () => {
    expect(r.value({ a: [KEY, 1, null], b: { c: `x${KEY}` } })).toEqual({
      a: [REDACTED, 1, null],
      b: { c: `x${REDACTED}` },
    });
  });

  test('ignores unset and too short secrets (they would corrupt ordinary data)', () => {
    const none = createRedactor([undefined, '', '  ', 'abc']);
    expect(none.text('abc abc')).toBe('abc abc');
  });

  test('redacts an error message, stack and details in place, causes included', () => {
    const error = new ExtractError(`failed with ${KEY}`, {
      code: 'x',
      retryable: false,
      details: { snippet: `key=${encodeURIComponent(KEY)}` },
    });
    const wrapped = new ExtractError('outer', { code: 'y', retryable: true, cause: error });
    expect(redactError(wrapped, r)).toBe(wrapped);
    expect(error.message).toBe(`failed with ${REDACTED}`);
    expect(error.stack).not.toContain(KEY);
    expect(error.details).toEqual({ snippet: `key=${REDACTED}` });
  });
});
