/**
 * The functions validate with `zod/mini` (`import * as z from 'zod/mini'`): classic zod builds
 * every method of every schema class when it is imported, ~30 ms of each function's cold start
 * before the first request (issue 12, README Performance). Mini has no messages of its own
 * ("Invalid input"); this gives it classic zod's English ones. Every module that defines a schema
 * imports this file, so the messages never depend on which module happened to load first.
 * (A namespace import keeps esbuild's tree shaking: re-exporting `z` as an object would bundle
 * every locale.)
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());
