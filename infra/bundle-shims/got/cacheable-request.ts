export { CacheableRequest as default, CacheError } from '../got-unused.js';
