import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { VIEW_FILES } from '../../functions/src/schema/bigquery-schema.js';
import { TABLES } from '../../functions/src/schema/tables.js';
import { REPO_ROOT } from '../../infra/bundle.js';
import { loadViews, parseViewSql } from '../../infra/sql-views.js';

describe('views from sql/views', () => {
  it('loads every view file in creation order, as a query over project-qualified tables', () => {
    const views = loadViews(join(REPO_ROOT, 'sql'), 'my-proj', 'crypto_market');
    expect(views.map((v) => `views/${v.name}.sql`)).toEqual([...VIEW_FILES]);
    for (const v of views) {
      expect(v.query).toMatch(/^(select|with)\b/i);
      expect(v.query).not.toMatch(/\{\{|create\s+or\s+replace/i);
      expect(v.query).toContain('`my-proj`.`crypto_market`.');
      expect(v.query).not.toMatch(/(?<!`)my-proj(?!`)/);
      expect(v.description.length).toBeGreaterThan(0);
      // A view only reads tables and views created before it.
      const earlier = [...TABLES.map((t) => t.name), ...views.slice(0, views.indexOf(v)).map((e) => e.name)];
      for (const dep of v.reads) expect(earlier).toContain(dep);
    }
  });

  it('splits the header comment, the name and the query', () => {
    const view = parseViewSql(
      'views/v_x.sql',
      '-- What it shows.\n--\n-- Why.\ncreate or replace view {{dataset}}.v_x as\nselect a.x -- inline\nfrom {{dataset}}.v_y as a\njoin {{dataset}}.dim_date as d on true;\n',
      'p',
      'ds',
    );
    expect(view).toEqual({
      name: 'v_x',
      description: 'What it shows.\n\nWhy.',
      query: 'select a.x -- inline\nfrom `p`.`ds`.v_y as a\njoin `p`.`ds`.dim_date as d on true',
      reads: ['v_y', 'dim_date'],
    });
  });

  it.each(['acme-2fa-prod', 'example.com:proj'])(
    'quotes a project id such as %s, which BigQuery refuses unquoted',
    (project) => {
      for (const v of loadViews(join(REPO_ROOT, 'sql'), project, 'crypto_market')) {
        const names = [...v.query.matchAll(/(\S*)crypto_market(\S*)/g)].map((m) => m[0]);
        expect(names.length).toBeGreaterThan(0);
        for (const name of names)
          expect(name).toMatch(new RegExp(`^\`${project.replace('.', '\\.')}\`\\.\`crypto_market\`\\.\\w+$`));
      }
    },
  );

  it('rejects a file whose view is not named after it, or that is not a view', () => {
    expect(() =>
      parseViewSql('views/v_a.sql', 'create or replace view {{dataset}}.v_b as select 1', 'p', 'd'),
    ).toThrow(/named for v_a/);
    expect(() => parseViewSql('views/v_a.sql', 'create table {{dataset}}.v_a (x int64)', 'p', 'd')).toThrow(
      /expected 'create or replace view/,
    );
    expect(() =>
      parseViewSql(
        'views/v_a.sql',
        'create or replace view {{dataset}}.v_a as select 1; drop table x',
        'p',
        'd',
      ),
    ).toThrow(/one statement/);
  });
});
