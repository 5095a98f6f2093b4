/**
 * ZetaSQL, BigQuery's SQL front end, as a test fixture: the server binary that ships with
 * @fivetrandevelopers/zetasql, started once per test file, and helpers that analyse a BigQuery
 * script against the catalog generated from the schema source of truth.
 *
 * Usage, at the top level of a test file:
 *   const zetasql = useZetaSql();
 *   test('…', async () => { const result = await zetasql().analyseScript(sql, { … }); });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ASTScriptProto__Output } from '@fivetrandevelopers/zetasql/lib/types/zetasql/ASTScriptProto.js';
import type { AnyASTStatementProto__Output } from '@fivetrandevelopers/zetasql/lib/types/zetasql/AnyASTStatementProto.js';
import type { AnalyzerOptionsProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/AnalyzerOptionsProto.js';
import type { LanguageOptionsProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/LanguageOptionsProto.js';
import type { LanguageOptionsProto__Output } from '@fivetrandevelopers/zetasql/lib/types/zetasql/LanguageOptionsProto.js';
import type { AnalyzeRequest } from '@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/AnalyzeRequest.js';
import type { AnalyzeResponse__Output } from '@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/AnalyzeResponse.js';
import type { LanguageOptionsRequest } from '@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/LanguageOptionsRequest.js';
import type { ParseRequest } from '@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/ParseRequest.js';
import type { ParseResponse__Output } from '@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/ParseResponse.js';
import type { TypeKind as TypeKindValues } from '@fivetrandevelopers/zetasql/lib/types/zetasql/TypeKind.js';
import {
  MERGE_STAGING_TABLES,
  SQL_PARAMETERS,
  type StagingPlaceholder,
} from '../../functions/src/schema/bigquery-schema.js';
import { TABLES, type ColumnType, type TableDef } from '../../functions/src/schema/tables.js';
import { renderSql } from '../../functions/src/sql/sql-files.js';
import {
  ZETASQL_TYPE_KIND,
  zetaSqlCatalog,
  zetaSqlType,
  type ZetaSqlCatalogOptions,
} from '../../functions/src/schema/zetasql-catalog.js';

// The package's own client is a singleton bound to "localhost"; a client of our own connects to
// exactly the address the server was started on, and closes with the fixture.
const packageRequire = createRequire(createRequire(import.meta.url).resolve('@fivetrandevelopers/zetasql'));
const packageLib = dirname(packageRequire.resolve('@fivetrandevelopers/zetasql'));

type Callback<T> = (error: (Error & { code?: number; details?: string }) | null, value?: T) => void;
interface LocalServiceClient {
  parse(request: ParseRequest, callback: Callback<ParseResponse__Output>): unknown;
  analyze(request: AnalyzeRequest, callback: Callback<AnalyzeResponse__Output>): unknown;
  getLanguageOptions(
    request: LanguageOptionsRequest,
    callback: Callback<LanguageOptionsProto__Output>,
  ): unknown;
  close(): void;
}

/** What the package's runServer would run: the binary for this platform and architecture. */
function serverBinary(): string {
  const arch = process.arch.startsWith('arm') ? '_arm' : '';
  const platform = process.platform === 'darwin' ? '' : '.so';
  return join(packageLib, 'zetasql', `remote_server${arch}${platform}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** The little of @grpc/grpc-js and @grpc/proto-loader used here (the package's copies). */
interface Grpc {
  credentials: { createInsecure(): unknown };
  loadPackageDefinition(definition: unknown): unknown;
}
interface ProtoLoader {
  loadSync(file: string, options: Record<string, unknown>): unknown;
}

/** zetasql.TypeKind, name to number (responses carry enums as numbers). */
const { TypeKind } = packageRequire('./types/zetasql/TypeKind.js') as { TypeKind: typeof TypeKindValues };

function connect(port: number): LocalServiceClient {
  const grpc = packageRequire('@grpc/grpc-js') as Grpc;
  const protoLoader = packageRequire('@grpc/proto-loader') as ProtoLoader;
  // The same loader options the package's generated types were made with.
  const definition = protoLoader.loadSync('local_service.proto', {
    defaults: true,
    oneofs: true,
    includeDirs: [join(packageLib, 'zetasql', 'protos')],
  });
  const proto = grpc.loadPackageDefinition(definition) as unknown as {
    zetasql: {
      local_service: {
        ZetaSqlLocalService: new (address: string, credentials: unknown) => LocalServiceClient;
      };
    };
  };
  const Service = proto.zetasql.local_service.ZetaSqlLocalService;
  return new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function call<Req, Res>(
  client: LocalServiceClient,
  method: 'parse' | 'analyze' | 'getLanguageOptions',
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as (r: Req, cb: Callback<Res>) => unknown;
    fn.call(client, request, (error, value) => {
      if (error) reject(error);
      else resolve(value as Res);
    });
  });
}

/** Type of one statement analysed (or not) by analyseScript. */
export interface StatementAnalysis {
  /** Line of the statement's first character in the script (1-based). */
  line: number;
  /** The parser's node kind, e.g. astMergeStatementNode, or `script` for a whole-script error. */
  kind: string;
  /** How it was checked: analysed as a statement, or (scripting statements) its expressions. */
  check: 'statement' | 'expression';
  /** The statement's text. */
  sql: string;
  /** The most specific resolved node kind on success, e.g. resolvedMergeStmtNode. */
  resolved?: string;
  /** Names of the columns a query or view returns (from the resolved statement). */
  outputColumns?: string[];
  /** ZetaSQL's error, located in the script as `[at line:column]`. */
  error?: string;
}

export interface ScriptAnalysisOptions {
  /** The catalog (dataset, schema, staging tables); constants are added from the script's DECLAREs. */
  catalog: Omit<ZetaSqlCatalogOptions, 'languageOptions' | 'constants'>;
  /** Every named query parameter the script may use, with its type. */
  parameters?: Readonly<Record<string, ColumnType>>;
}

export interface ZetaSql {
  /** BigQuery's language options as enabled for every analysis (see startZetaSql). */
  readonly languageOptions: LanguageOptionsProto;
  /** Process id of the server. */
  readonly pid: number | undefined;
  /** Parses and analyses a whole BigQuery script, statement by statement. */
  analyseScript(sql: string, options: ScriptAnalysisOptions): Promise<StatementAnalysis[]>;
  stop(): Promise<void>;
}

/** BigQuery system variables the scripts may read, with their types. */
const SYSTEM_VARIABLES: Readonly<Record<string, ColumnType>> = {
  row_count: 'INT64',
  current_job_id: 'STRING',
  project_id: 'STRING',
  time_zone: 'STRING',
};

const SQL_TYPE_NAMES: Readonly<Record<string, ColumnType>> = {
  STRING: 'STRING',
  INT64: 'INT64',
  INT: 'INT64',
  INTEGER: 'INT64',
  BIGINT: 'INT64',
  FLOAT64: 'FLOAT64',
  BOOL: 'BOOL',
  BOOLEAN: 'BOOL',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

/** The shallowest value under `key` in a protobuf object tree (breadth first). */
function shallowest(root: unknown, key: string): unknown {
  let level: unknown[] = [root];
  while (level.length > 0) {
    const next: unknown[] = [];
    for (const node of level) {
      if (node === null || typeof node !== 'object') continue;
      const record = node as Record<string, unknown>;
      if (record[key] !== undefined && record[key] !== null) return record[key];
      next.push(...Object.values(record));
    }
    level = next;
  }
  return undefined;
}

/**
 * Byte range of a parse tree node. Nodes are oneof wrappers (`node` names the field set) around a
 * chain of `parent` messages, the root of which holds the node's own parse_location_range.
 */
function rangeOf(node: unknown): { start: number; end: number } {
  let current = node as Record<string, unknown> | null | undefined;
  while (current && typeof current.node === 'string' && current[current.node]) {
    current = current[current.node] as Record<string, unknown>;
  }
  while (current && !current.parseLocationRange)
    current = current.parent as Record<string, unknown> | undefined;
  const range = current?.parseLocationRange as { start: number; end: number } | undefined;
  if (range === undefined) throw new Error('parse tree node without a location');
  return range;
}

/** The most specific kind of a oneof-wrapped node, e.g. resolvedCreateTableStmtNode. */
function kindOf(node: unknown): string | undefined {
  let current = node as Record<string, unknown> | null | undefined;
  let kind: string | undefined;
  while (current && typeof current.node === 'string') {
    kind = current.node;
    current = current[kind] as Record<string, unknown> | undefined;
  }
  return kind;
}

/** The type kind of a resolved expression: the `type` of its outermost node. */
function typeKindOf(resolved: unknown): number | undefined {
  const type = shallowest(resolved, 'type') as { typeKind?: number } | undefined;
  return type?.typeKind;
}

/**
 * Starts the server on a free port of 127.0.0.1 and waits until it answers. BigQuery's language:
 * the maximum feature set ZetaSQL releases (what the package's enableMaximumLanguageFeatures
 * asks for; BigQuery implements ZetaSQL's released features, so stricter settings only reject
 * valid BigQuery) in external product mode, which is BigQuery's (no INT32, UINT or proto types;
 * FLOAT64 rather than DOUBLE), with QUALIFY reserved as in BigQuery and every statement kind
 * allowed (an empty supported_statement_kinds means all: DDL, DML, BEGIN/COMMIT, ...).
 */
export async function startZetaSql(): Promise<ZetaSql> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort());
    } catch (error) {
      lastError = error as Error; // most likely the port was taken between probe and bind
    }
  }
  throw lastError ?? new Error('ZetaSQL server did not start');
}

async function startOnce(port: number): Promise<ZetaSql> {
  const child: ChildProcess = spawn(serverBinary(), ['127.0.0.1', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  // Should the test process end without afterAll (a crash), the server must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const client = connect(port);
  const stop = async () => {
    client.close();
    process.removeListener('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exitedPromise;
      clearTimeout(timer);
    }
  };

  let maximum: LanguageOptionsProto__Output | undefined;
  const deadline = Date.now() + 20_000;
  while (maximum === undefined) {
    try {
      maximum = await call<LanguageOptionsRequest, LanguageOptionsProto__Output>(
        client,
        'getLanguageOptions',
        {
          maximumFeatures: true,
        },
      );
    } catch (error) {
      const unavailable = (error as { code?: number }).code === 14;
      if (!unavailable || exited || Date.now() > deadline) {
        await stop();
        throw new Error(`ZetaSQL server on port ${port} is not answering: ${String(error)}\n${output}`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const languageOptions: LanguageOptionsProto = {
    enabledLanguageFeatures: maximum.enabledLanguageFeatures,
    productMode: 'PRODUCT_EXTERNAL',
    reservedKeywords: ['QUALIFY'],
    supportedStatementKinds: [],
  };

  const analyse = async (request: AnalyzeRequest): Promise<AnalyzeResponse__Output> =>
    call<AnalyzeRequest, AnalyzeResponse__Output>(client, 'analyze', request);

  async function analyseScript(sql: string, options: ScriptAnalysisOptions): Promise<StatementAnalysis[]> {
    const bytes = Buffer.from(sql, 'utf8');
    const lineAt = (offset: number) => bytes.subarray(0, offset).toString('utf8').split('\n').length;
    // ZetaSQL reports `[at line:column]` relative to the text it was given; make it the script's.
    const locate = (message: string, offset: number) =>
      message.replace(/\[at (\d+):(\d+)\]/, (_, l: string, c: string) => {
        const before = bytes.subarray(0, offset).toString('utf8');
        const startColumn = before.length - before.lastIndexOf('\n');
        const line = lineAt(offset) + Number(l) - 1;
        const column = Number(l) === 1 ? startColumn + Number(c) - 1 : Number(c);
        return `[at ${line}:${column}]`;
      });
    const errorText = (error: unknown) => (error as { details?: string }).details ?? String(error);

    let script: ASTScriptProto__Output | null | undefined;
    try {
      // The whole text as a BigQuery script: checks the syntax of every statement, including the
      // scripting ones, and gives each statement's exact location (no splitting by hand).
      script = (
        await call<ParseRequest, ParseResponse__Output>(client, 'parse', {
          sqlStatement: sql,
          allowScript: true,
          options: languageOptions,
        })
      ).parsedScript;
    } catch (error) {
      return [{ line: 1, kind: 'script', check: 'statement', sql, error: locate(errorText(error), 0) }];
    }
    const statements: AnyASTStatementProto__Output[] = script?.statementListNode?.statementList ?? [];

    const variables: Record<string, ColumnType> = {};
    const analyzerOptions = (): AnalyzerOptionsProto => ({
      languageOptions,
      errorMessageMode: 'ERROR_MESSAGE_ONE_LINE',
      defaultTimezone: 'UTC',
      parameterMode: 'PARAMETER_NAMED',
      queryParameters: Object.entries(options.parameters ?? {}).map(([name, type]) => ({
        name,
        type: zetaSqlType(type),
      })),
      systemVariables: Object.entries(SYSTEM_VARIABLES).map(([name, type]) => ({
        namePath: [name],
        type: zetaSqlType(type),
      })),
    });
    const catalog = () =>
      zetaSqlCatalog({ ...options.catalog, languageOptions, constants: { ...variables } });
    const text = (range: { start: number; end: number }) =>
      bytes.subarray(range.start, range.end).toString('utf8');

    /** Analyses an expression a variable is given and checks its type is the variable's. */
    const checkAssignment = async (name: string, expression: unknown, result: StatementAnalysis) => {
      const type = variables[name];
      if (type === undefined) {
        result.error = `assignment to undeclared variable ${name}`;
        return;
      }
      const range = rangeOf(expression);
      try {
        const response = await analyse({
          options: analyzerOptions(),
          simpleCatalog: catalog(),
          sqlExpression: text(range),
        });
        result.resolved = kindOf(response.resolvedExpression);
        const kind = typeKindOf(response.resolvedExpression);
        if (kind !== TypeKind[ZETASQL_TYPE_KIND[type]]) {
          result.error = `${name} is ${type} but is assigned a value of type kind ${String(kind)}`;
        }
      } catch (error) {
        result.error = locate(errorText(error), range.start);
      }
    };

    const results: StatementAnalysis[] = [];
    for (const statement of statements) {
      const range = rangeOf(statement);
      const result: StatementAnalysis = {
        line: lineAt(range.start),
        kind: statement.node,
        check: 'statement',
        sql: text(range),
      };
      results.push(result);
      const scripting = statement.astScriptStatementNode;
      if (scripting) {
        // Scripting statements (DECLARE, SET) are not statements Analyze resolves: their
        // expressions are analysed instead, and declared variables become catalog constants, so
        // the statements after them resolve a variable by its bare name, as BigQuery does.
        result.kind = scripting.node;
        result.check = 'expression';
        const declaration = scripting.astVariableDeclarationNode;
        const assignment = scripting.astSingleAssignmentNode;
        if (declaration) {
          const typeName = (declaration.type?.astSimpleTypeNode?.typeName?.names ?? [])
            .map((n) => n.idString)
            .join('.')
            .toUpperCase();
          const type = SQL_TYPE_NAMES[typeName];
          const names = (declaration.variableList?.identifierList ?? []).map((i) => i.idString);
          if (type === undefined) {
            result.error = `variable type ${typeName || '(inferred)'} is not supported by the analysis helper`;
            continue;
          }
          for (const name of names) variables[name] = type;
          if (declaration.defaultValue) {
            for (const name of names) await checkAssignment(name, declaration.defaultValue, result);
          }
        } else if (assignment) {
          await checkAssignment(assignment.variable?.idString ?? '', assignment.expression, result);
        } else {
          // IF, loops, BEGIN ... EXCEPTION blocks: fail loudly rather than skip them silently.
          result.error = `${scripting.node} is not supported by tests/support/zetasql.ts; extend it`;
        }
        continue;
      }
      try {
        const response = await analyse({
          options: analyzerOptions(),
          simpleCatalog: catalog(),
          sqlStatement: text(range),
        });
        result.resolved = kindOf(response.resolvedStatement);
        const output = shallowest(response.resolvedStatement, 'outputColumnList') as
          { name: string }[] | undefined;
        if (output !== undefined) result.outputColumns = output.map((c) => c.name);
      } catch (error) {
        result.error = locate(errorText(error), range.start);
      }
    }
    return results;
  }

  return { languageOptions, pid: child.pid, analyseScript, stop };
}

/**
 * One ZetaSQL server for the calling test file: started in beforeAll, stopped in afterAll.
 * Returns a getter, valid inside tests.
 */
export function useZetaSql(): () => ZetaSql {
  let zetasql: ZetaSql | undefined;
  beforeAll(async () => {
    zetasql = await startZetaSql();
  }, 30_000);
  afterAll(async () => {
    await zetasql?.stop();
    zetasql = undefined;
  });
  return () => {
    if (zetasql === undefined) throw new Error('ZetaSQL is only available inside tests (see useZetaSql)');
    return zetasql;
  };
}

/** Root of the repository's sql/ folder. */
export const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sql');

/** Every .sql file below sql/, relative to it (e.g. `load/merge_run.sql`), sorted. */
export function listSqlFiles(): string[] {
  return readdirSync(SQL_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.split(sep).join('/'))
    .sort();
}

/** The identifiers the SQL is rendered with in the tests: the dataset and one run's staging tables. */
export const TEST_DATASET = 'crypto_market';
export const TEST_STAGING: Readonly<Record<StagingPlaceholder, string>> = {
  staging_fact: 'stg_fact_market_snapshot_run',
  staging_asset: 'stg_dim_asset_run',
  staging_date: 'stg_dim_date_run',
  staging_rejected: 'stg_ops_rejected_record_run',
  staging_history: 'stg_fact_price_history_chunk',
};

/**
 * Project ids that need quoting: a dash after a digit, and a domain-scoped id (a dot and a colon).
 * Every statement is analysed qualified by each of them too (ARCHITECTURE.md §6).
 */
export const AWKWARD_PROJECTS = ['acme-2fa-prod', 'example.com:proj'] as const;

/** The dataset the test SQL names: bare, or qualified by `project`. */
const testDataset = (project?: string): string | readonly string[] =>
  project === undefined ? TEST_DATASET : [project, TEST_DATASET];

/**
 * A file of sql/ rendered as the BigQuery adapter would, with the test identifiers; with `project`,
 * the dataset is qualified by it as the adapter, the views and cloud-check render it.
 */
export function renderTestSql(file: string, project?: string): string {
  return renderSql(readFileSync(join(SQL_DIR, file), 'utf8'), {
    dataset: testDataset(project),
    ...TEST_STAGING,
  });
}

/** Analysis options for a file of sql/: its declared parameters, the schema and the staging tables. */
export function analysisOptionsFor(
  file: string,
  tables: readonly TableDef[] = TABLES,
  project?: string,
): ScriptAnalysisOptions {
  const likeTables = Object.fromEntries(
    Object.entries(TEST_STAGING).map(([placeholder, name]) => [
      name,
      MERGE_STAGING_TABLES[placeholder as StagingPlaceholder].name,
    ]),
  );
  const parameters: Readonly<Record<string, ColumnType>> =
    (SQL_PARAMETERS as Readonly<Record<string, Readonly<Record<string, ColumnType>>>>)[file] ?? {};
  return { catalog: { dataset: testDataset(project), tables, likeTables }, parameters };
}
