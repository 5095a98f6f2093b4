import { DASHBOARD, viewsUsed } from '../../../dashboards/definition.js';
import { lookerStudioUrl } from '../../../dashboards/looker-studio-url.js';

/** The Linking API URL: one BigQuery data source per view the dashboard definition reads. */
const parse = (url: string) => {
  const u = new URL(url);
  return { base: `${u.origin}${u.pathname}`, params: u.searchParams, keys: [...u.searchParams.keys()] };
};

describe('lookerStudioUrl', () => {
  const { base, params, keys } = parse(
    lookerStudioUrl({ project: 'my-project-1', dataset: 'crypto_market' }),
  );

  it('targets the Linking API create endpoint with the report name', () => {
    expect(base).toBe('https://lookerstudio.google.com/reporting/create');
    expect(params.get('r.reportName')).toBe(DASHBOARD.title);
    expect(params.has('c.reportId')).toBe(false);
  });

  it('configures one BigQuery TABLE data source per view, with project, dataset and table ids', () => {
    const views = viewsUsed();
    expect(views).toEqual(
      expect.arrayContaining([
        'v_market_snapshot',
        'v_daily_indicators',
        'v_daily_ohlc',
        'v_market_dominance',
        'v_top_movers',
        'v_freshness',
        'v_run_health',
      ]),
    );
    const aliases = keys.filter((k) => k.endsWith('.connector')).map((k) => k.split('.')[1]);
    expect(aliases).toEqual(views);
    for (const view of views) {
      expect({
        connector: params.get(`ds.${view}.connector`),
        type: params.get(`ds.${view}.type`),
        projectId: params.get(`ds.${view}.projectId`),
        datasetId: params.get(`ds.${view}.datasetId`),
        tableId: params.get(`ds.${view}.tableId`),
      }).toEqual({
        connector: 'bigQuery',
        type: 'TABLE',
        projectId: 'my-project-1',
        datasetId: 'crypto_market',
        tableId: view,
      });
    }
  });

  it('adds a template report and a billing project when given, and encodes spaces as %20', () => {
    const url = lookerStudioUrl({
      project: 'my-project-1',
      dataset: 'crypto_market',
      templateReportId: 'abc-123',
      billingProject: 'billing-proj',
    });
    const { params: p } = parse(url);
    expect(p.get('c.reportId')).toBe('abc-123');
    expect(p.get('ds.v_top_movers.billingProjectId')).toBe('billing-proj');
    expect(url).toContain('r.reportName=Crypto%20market');
    expect(url).not.toContain('+');
  });

  it.each([
    [{ project: 'Bad_Project', dataset: 'crypto_market' }, /project id/],
    [{ project: 'my-project-1', dataset: 'crypto-market' }, /dataset id/],
    [{ project: 'my-project-1', dataset: 'x&ds.evil.tableId=y' }, /dataset id/],
  ])('refuses ids that are not ids: %j', (target, message) => {
    expect(() => lookerStudioUrl(target)).toThrow(message);
  });
});
