import ora, { type Ora } from 'ora';

/** The output cloud-check writes to: lines, and the stream a spinner may draw on. */
export interface CloudCheckIo {
  out(line: string): void;
  /** A terminal gets a spinner; anything else (a pipe, CI, a test) gets plain lines. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Shows that a long wait is alive. */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

/**
 * An `ora` spinner on a terminal. Elsewhere plain lines, one per update: a spinner's control
 * characters would garble a CI log, and a silent wait there looks like a hang.
 */
export function startProgress(io: CloudCheckIo, text: string): Progress {
  if (io.stream?.isTTY === true) {
    const spinner: Ora = ora({ text, stream: io.stream }).start();
    return {
      update: (t) => {
        spinner.text = t;
      },
      succeed: (t) => spinner.succeed(t),
      fail: (t) => spinner.fail(t),
    };
  }
  io.out(`… ${text}`);
  return {
    update: (t) => io.out(`… ${t}`),
    succeed: (t) => io.out(`ok ${t}`),
    fail: (t) => io.out(`FAILED ${t}`),
  };
}
