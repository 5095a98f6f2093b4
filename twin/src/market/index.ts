/** The twin's CoinGecko stand-ins: a simulated market, a replay of saved bodies, and the HTTP server for both. */
export * from './types.js';
export * from './market-simulator.js';
export * from './simulator-responder.js';
export * from './replay-source.js';
export * from './market-server.js';
export * from './market-chart-series.js';
