/** True for a plain relative path inside a folder: no `..`, no absolute path, no URL scheme. */
export function isSafeRelativePath(p: string): boolean {
  if (p.length === 0 || p.length > 1024) return false;
  // The URL parser drops leading/trailing spaces and control characters and every tab and newline,
  // so ' //host/x' and '.\t./x' would resolve as '//host/x' and '../x'.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(p) || p.trim() !== p) return false;
  if (p.startsWith('/') || p.startsWith('\\') || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p)) return false;
  // It also reads '%2e%2e' as '..', and ends the path at '?' or '#' ('..#' is '..'); a server may
  // decode '%2f' and '%5c' into separators. A bundle's file names need none of these.
  if (/[?#]|%(2f|5c)/i.test(p)) return false;
  return !p.split(/[\\/]/).some((seg) => seg.replace(/%2e/gi, '.') === '..');
}
