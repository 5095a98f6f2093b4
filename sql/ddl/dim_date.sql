-- Generated from functions/src/schema/tables.ts by `npx tsx scripts/generate-ddl.ts`; do not edit.
-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for
-- the ZetaSQL check that the schema is valid BigQuery.
create table if not exists {{dataset}}.dim_date (
  date_key     int64 not null     options (description = 'YYYYMMDD.'),
  date         date not null      options (description = 'The calendar date (UTC).'),
  year         int64 not null     options (description = 'Calendar year.'),
  quarter      int64 not null     options (description = 'Quarter 1-4.'),
  month        int64 not null     options (description = 'Month 1-12.'),
  month_name   string not null    options (description = 'January ... December.'),
  day_of_month int64 not null     options (description = 'Day 1-31.'),
  day_of_week  int64 not null     options (description = 'ISO day of week, 1 = Monday.'),
  day_name     string not null    options (description = 'Monday ... Sunday.'),
  iso_year     int64 not null     options (description = 'ISO 8601 week-numbering year.'),
  iso_week     int64 not null     options (description = 'ISO 8601 week 1-53.'),
  is_weekend   bool not null      options (description = 'Saturday or Sunday.')
)
options (
  description = 'Calendar attributes of every date a fact row references.'
);
