import { main } from './main.js';

// The executable: `npm run pipeline -- <command>` and bin/crypto-pipeline.js land here.
process.exitCode = await main(process.argv.slice(2), process.env);
