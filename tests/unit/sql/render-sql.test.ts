import { describe, expect, it } from '@jest/globals';
import { renderSql } from '../../../functions/src/sql/sql-files.js';

describe('renderSql', () => {
  it('backtick-quotes every part of a name, whatever the project id looks like', () => {
    const sql = 'select 1 from {{dataset}}.t join {{dataset}}.{{staging}} as s on true';
    expect(renderSql(sql, { dataset: ['acme-2fa-prod', 'crypto_market'], staging: 'stg_1' })).toBe(
      'select 1 from `acme-2fa-prod`.`crypto_market`.t join `acme-2fa-prod`.`crypto_market`.`stg_1` as s on true',
    );
    expect(renderSql('from {{dataset}}.t', { dataset: ['example.com:proj', 'crypto_market'] })).toBe(
      'from `example.com:proj`.`crypto_market`.t',
    );
    expect(renderSql('from {{dataset}}.t', { dataset: 'crypto_market' })).toBe('from `crypto_market`.t');
  });

  it('refuses anything that could escape the quotes or is not a name', () => {
    expect(() => renderSql('{{dataset}}', { dataset: ['p', 'd`; drop table x; --'] })).toThrow(
      /not a safe identifier/,
    );
    expect(() => renderSql('{{dataset}}', { dataset: ['p`x', 'd'] })).toThrow(/not a safe identifier/);
    // A dotted string is ambiguous (`example.com:proj.ds`): a path must come as parts.
    expect(() => renderSql('{{dataset}}', { dataset: 'my-proj.crypto_market' })).toThrow(
      /not a safe identifier/,
    );
    expect(() => renderSql('{{dataset}}', { dataset: [] })).toThrow(/empty path/);
    expect(() => renderSql('{{table}}', {})).toThrow(/has no value/);
  });
});
