/**
 * Stands in for `whatwg-url` in the function bundle (infra/bundle.ts). Its only importer there,
 * node-fetch 2 (under gaxios, under the Storage and BigQuery clients), reads
 * `Url.URL || whatwgUrl.URL`, so on Node its copy is never used; bundling it cost ~260 KiB of
 * Unicode tables (tr46) that every cold start of either function parsed for nothing.
 */
import { URL, URLSearchParams } from 'node:url';

export { URL, URLSearchParams };
export default { URL, URLSearchParams };
