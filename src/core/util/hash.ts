export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The one recipe for an identity made of several parts (a bundle's files, a pair and the user's
 * eval sets): 16 hex digits are plenty to key results in one browser, and short enough for a URL.
 */
export async function combineHashes(hashes: readonly string[]): Promise<string> {
  return (await sha256Hex(new TextEncoder().encode(hashes.join(':')))).slice(0, 16);
}
