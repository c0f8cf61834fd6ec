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
