// The CLI writes progress and errors to stderr; tests that expect a failure keep the log readable.
export async function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  process.stderr.write = () => true;
  try {
    return await fn();
  } finally {
    process.stderr.write = write;
  }
}

/** What fn prints with console.log, line by line (the CLI's listings). */
export async function captureLog<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (x: string) => lines.push(x);
  try {
    return { result: await fn(), lines };
  } finally {
    console.log = log;
  }
}
