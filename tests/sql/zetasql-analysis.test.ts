import { SQL_PARAMETERS, VIEW_FILES } from '../../functions/src/schema/bigquery-schema.js';
import { TABLES, type ColumnType, type TableDef } from '../../functions/src/schema/tables.js';
import {
  analysisOptionsFor,
  AWKWARD_PROJECTS,
  listSqlFiles,
  renderTestSql,
  startZetaSql,
  useZetaSql,
  type StatementAnalysis,
} from '../support/zetasql.js';

/**
 * Every BigQuery statement in sql/ is parsed and analysed by ZetaSQL (BigQuery's SQL front end)
 * against the catalog generated from the schema source of truth, with exactly the named
 * parameters the adapter passes. The mutation tests prove that a schema change breaks analysis.
 */
const zetasql = useZetaSql();

const errorsOf = (results: StatementAnalysis[]) =>
  results.filter((r) => r.error !== undefined).map((r) => `line ${r.line} (${r.kind}): ${r.error}`);

/** A copy of the schema with one column of one table changed. */
function alterColumn(
  table: string,
  column: string,
  change: { name?: string; type?: ColumnType },
): TableDef[] {
  let found = false;
  const altered = TABLES.map((t): TableDef => {
    if (t.name !== table) return t;
    return {
      ...t,
      columns: t.columns.map((c) => {
        if (c.name !== column) return c;
        found = true;
        return { ...c, name: change.name ?? c.name, type: change.type ?? c.type };
      }),
    };
  });
  if (!found) throw new Error(`no column ${table}.${column}`);
  return altered;
}

const analyse = (file: string, tables?: readonly TableDef[]) =>
  zetasql().analyseScript(renderTestSql(file), analysisOptionsFor(file, tables));

describe('every file in sql/ is valid BigQuery against the schema', () => {
  test.each(listSqlFiles())('%s', async (file) => {
    const results = await analyse(file);
    expect(results.length).toBeGreaterThan(0);
    expect(errorsOf(results)).toEqual([]);
  });

  test('a file uses exactly the parameters declared for it', () => {
    for (const file of listSqlFiles()) {
      // Comments may mention parameters; code may not use an undeclared one (ZetaSQL rejects that
      // too) and every declared one must be used, or the adapter sends values nobody reads.
      const code = renderTestSql(file).replace(/--[^\n]*/g, '');
      const used = new Set([...code.matchAll(/(?<![@\w])@(\w+)/g)].map((m) => m[1]));
      const declared = Object.keys((SQL_PARAMETERS as Record<string, Record<string, string>>)[file] ?? {});
      expect({ file, used: [...used].sort() }).toEqual({ file, used: declared.sort() });
    }
  });

  test('the DDL creates tables and each view file creates the view it is named after', async () => {
    for (const file of listSqlFiles().filter((f) => f.startsWith('ddl/'))) {
      expect((await analyse(file)).map((r) => r.resolved)).toEqual(['resolvedCreateTableStmtNode']);
    }
    for (const file of VIEW_FILES) {
      const [result] = await analyse(file);
      expect(result?.resolved).toBe('resolvedCreateViewStmtNode');
      const name = file.replace(/^views\/(.*)\.sql$/, '$1');
      expect(result?.sql).toMatch(new RegExp(`^create or replace view \`crypto_market\`\\.${name} as`));
    }
  });
});

describe('every file in sql/ is valid when qualified by a project id that needs quoting', () => {
  // Issue 10: `acme-2fa-prod.crypto_market` does not parse unquoted (a dash after a digit), and a
  // domain-scoped `example.com:proj` is refused; the rendered SQL quotes the project and dataset.
  const cases = AWKWARD_PROJECTS.flatMap((project) => listSqlFiles().map((file) => [project, file]));
  test.each(cases)('%s: %s', async (project, file) => {
    const sql = renderTestSql(file, project);
    expect(sql).toContain(`\`${project}\`.\`crypto_market\`.`);
    const results = await zetasql().analyseScript(sql, analysisOptionsFor(file, undefined, project));
    expect(results.length).toBeGreaterThan(0);
    expect(errorsOf(results)).toEqual([]);
  });

  test('the same SQL with the project unquoted does not parse (the check can fail)', async () => {
    const file = 'views/v_freshness.sql';
    const unquoted = renderTestSql(file, 'acme-2fa-prod').replace(/`/g, '');
    const results = await zetasql().analyseScript(
      unquoted,
      analysisOptionsFor(file, undefined, 'acme-2fa-prod'),
    );
    expect(errorsOf(results).join('\n')).toMatch(/Syntax error/);
  });
});

const SELF_BOUNDED = new Set([
  'views/v_latest_snapshot.sql',
  'views/v_daily_indicators.sql',
  'views/v_top_movers.sql',
]);

describe('views over the partition-filtered fact', () => {
  // BigQuery demands the fact's partition filter of every query, also through a view: a view must
  // either filter snapshot_date itself with a constant bound, or return snapshot_date so that the
  // dashboard's query can (and the file must say which, for whoever writes the dashboard).
  test.each(VIEW_FILES.filter((f) => /fact_market_snapshot/.test(renderTestSql(f))))('%s', async (file) => {
    const sql = renderTestSql(file);
    expect(sql).toMatch(/^-- Partition filter:/m);
    const [view] = await analyse(file);
    const filtersItself = /where f\.snapshot_date >= date_sub\(current_date\(\), interval \d+ day\)/.test(
      sql,
    );
    // Views whose rows depend on rows of other dates (windows over days, "the newest slot") cannot
    // take the filter from outside: they must bound themselves.
    if (SELF_BOUNDED.has(file)) expect({ file, filtersItself }).toEqual({ file, filtersItself: true });
    if (!filtersItself) expect(view?.outputColumns).toContain('snapshot_date');
  });
});

describe('load/merge_run.sql', () => {
  test('is one transaction followed by the result query, every statement analysed', async () => {
    const results = await analyse('load/merge_run.sql');
    expect(results.map((r) => `${r.kind} -> ${r.resolved}`)).toEqual([
      'astVariableDeclarationNode -> resolvedLiteralNode', // declare asset_versions_inserted
      'astVariableDeclarationNode -> resolvedLiteralNode', // declare fact_rows_inserted
      'astBeginStatementNode -> resolvedBeginStmtNode',
      'astInsertStatementNode -> resolvedInsertStmtNode', // dim_date
      'astInsertStatementNode -> resolvedInsertStmtNode', // dim_asset
      'astSingleAssignmentNode -> resolvedSystemVariableNode', // asset_versions_inserted = @@row_count
      'astMergeStatementNode -> resolvedMergeStmtNode', // dim_asset: redundant versions removed
      'astMergeStatementNode -> resolvedMergeStmtNode', // fact
      'astSingleAssignmentNode -> resolvedSystemVariableNode', // fact_rows_inserted = @@row_count
      'astInsertStatementNode -> resolvedInsertStmtNode', // ops_rejected_record
      'astMergeStatementNode -> resolvedMergeStmtNode', // ops_run
      'astCommitStatementNode -> resolvedCommitStmtNode',
      'astQueryStatementNode -> resolvedQueryStmtNode', // the result the caller reads
    ]);
    expect(results.at(-1)?.sql).toMatch(/^select\s+fact_rows_inserted,\s+asset_versions_inserted$/);
  });

  test('the fact merge is insert-only and pruned to the run partition by a constant filter', async () => {
    const results = await analyse('load/merge_run.sql');
    const factMerge = results.find((r) => /^merge `crypto_market`\.fact_market_snapshot\b/.test(r.sql));
    expect(factMerge?.sql).toMatch(/\bon t\.snapshot_date = @snapshot_date\b/);
    expect(factMerge?.sql).toMatch(/when not matched then\s+insert/);
    expect(factMerge?.sql).not.toMatch(/\bwhen matched\b|\bupdate\b|\bdelete\b/);
  });

  test('a missing parameter declaration fails analysis', async () => {
    const options = analysisOptionsFor('load/merge_run.sql');
    const { snapshot_date: _dropped, ...parameters } = options.parameters ?? {};
    const results = await zetasql().analyseScript(renderTestSql('load/merge_run.sql'), {
      ...options,
      parameters,
    });
    expect(errorsOf(results).join('\n')).toMatch(/Query parameter 'snapshot_date' not found/);
  });
});

describe('the check has teeth: analysis fails when the schema changes under the SQL', () => {
  test('renaming fact_market_snapshot.current_price breaks the merge script and the fact views', async () => {
    const tables = alterColumn('fact_market_snapshot', 'current_price', { name: 'price' });
    const broken: string[] = [];
    for (const file of ['load/merge_run.sql', ...VIEW_FILES]) {
      const errors = errorsOf(await analyse(file, tables));
      if (errors.length > 0) {
        expect(errors.join('\n')).toMatch(/current_price/);
        broken.push(file);
      }
    }
    expect(broken).toEqual([
      'load/merge_run.sql',
      'views/v_market_snapshot.sql',
      'views/v_latest_snapshot.sql',
      'views/v_daily_ohlc.sql',
      'views/v_daily_indicators.sql',
      'views/v_top_movers.sql',
      'views/v_price_history.sql',
    ]);
  });

  test('renaming fact_price_history.price breaks the history merge and v_price_history', async () => {
    const tables = alterColumn('fact_price_history', 'price', { name: 'price_usd' });
    const broken: string[] = [];
    for (const file of ['load/merge_price_history.sql', ...VIEW_FILES]) {
      if (errorsOf(await analyse(file, tables)).length > 0) broken.push(file);
    }
    expect(broken).toEqual(['load/merge_price_history.sql', 'views/v_price_history.sql']);
  });

  test('renaming dim_asset.attributes_hash breaks both type 2 statements', async () => {
    const tables = alterColumn('dim_asset', 'attributes_hash', { name: 'attr_hash' });
    const errors = errorsOf(await analyse('load/merge_run.sql', tables));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/astInsertStatementNode.*attributes_hash/);
    expect(errors[1]).toMatch(/astMergeStatementNode.*attributes_hash/);
  });

  test('changing the type of ops_run.records_loaded breaks the run record merge', async () => {
    const tables = alterColumn('ops_run', 'records_loaded', { type: 'STRING' });
    const errors = errorsOf(await analyse('load/merge_run.sql', tables));
    expect(errors.join('\n')).toMatch(/records_loaded/);
    expect(errors.join('\n')).toMatch(/INT64/);
  });

  test('a syntax error is reported at its line in the script', async () => {
    const sql = 'declare n int64 default 0;\nselect 1;\nselect from crypto_market.ops_run;\n';
    const results = await zetasql().analyseScript(sql, analysisOptionsFor('load/get_run.sql'));
    expect(errorsOf(results).join('\n')).toMatch(/\[at 3:\d+\]/);
  });

  test('assigning a value of the wrong type to a script variable fails', async () => {
    const sql = "declare n int64 default 0;\nset n = 'many';\nselect n;\n";
    const results = await zetasql().analyseScript(sql, analysisOptionsFor('load/get_run.sql'));
    expect(errorsOf(results).join('\n')).toMatch(/n is INT64/);
  });
});

describe('the ZetaSQL fixture', () => {
  test('a server it starts is gone once stopped', async () => {
    const other = await startZetaSql();
    const pid = other.pid;
    expect(pid).toBeDefined();
    expect(() => process.kill(pid as number, 0)).not.toThrow();
    await other.stop();
    expect(() => process.kill(pid as number, 0)).toThrow();
  });
});
