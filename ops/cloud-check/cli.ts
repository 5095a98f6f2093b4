import { cloudCheckCommand } from './cloud-check.js';

// `npm run cloud-check -- --stack dev` lands here; the command itself takes its I/O as arguments so
// that the crypto-pipeline CLI (twin/src/cli) can mount it too.
process.exitCode = await cloudCheckCommand(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  stream: process.stdout,
});
