export { http2Wrapper as default } from '../got-unused.js';
