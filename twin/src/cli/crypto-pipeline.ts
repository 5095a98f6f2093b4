import { main } from './main.js';

// The executable: `npm run pipeline -- <command>` and bin/crypto-pipeline.js land here.

// `crypto-pipeline status | head -1`: the reader went away; that is not an error worth a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2), process.env);

// Every command closes what it opened, so the process ends by itself. Should a handle ever be left
// behind, the command must still not hang: exit after a grace period, and say so.
setTimeout(() => {
  console.error('warning: something was left running after the command finished; exiting anyway');
  process.exit(process.exitCode);
}, 3_000).unref();
