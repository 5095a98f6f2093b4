/**
 * The BigQuery client, re-exported through an ES module so that it can be imported lazily from
 * a split bundle: esbuild turns `import('@google-cloud/bigquery')` (CommonJS) in a split chunk
 * into a namespace that only has `default`, while a static import of it here gets the named
 * exports, as Node gives them (infra/bundle.ts, functions/src/entry/).
 */
export { BigQuery } from '@google-cloud/bigquery';
