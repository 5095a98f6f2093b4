export { CacheableLookup as default } from '../got-unused.js';
