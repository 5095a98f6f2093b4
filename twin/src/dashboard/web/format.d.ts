// Types of format.js for the TypeScript tests that import it (the browser loads the .js as is).
import type { ValueFormat } from '../../../../dashboards/definition.js';

export declare function utcDate(value: Date | string | number): string;
export declare function utcDateTime(value: Date | string | number): string;
export declare function minutes(value: number): string;
export declare function formatValue(value: unknown, format: ValueFormat, currency?: string): string;
