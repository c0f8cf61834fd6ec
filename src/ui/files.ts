// Turning dropped or picked files into (path, blob) lists, folders included.
export interface PathFile {
  path: string;
  blob: File;
}

export function filesFromInput(list: FileList | readonly File[] | null): PathFile[] {
  return Array.from(list ?? [], (f) => ({ path: f.webkitRelativePath || f.name, blob: f }));
}

async function walk(entry: FileSystemEntry, prefix: string, out: PathFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push({ path: prefix + entry.name, blob: file });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, `${prefix}${entry.name}/`, out);
    }
  }
}

/** Files of a drop, walking dropped folders. */
export async function filesFromDrop(dt: DataTransfer): Promise<PathFile[]> {
  const entries = Array.from(dt.items ?? [])
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return filesFromInput(dt.files);
  const out: PathFile[] = [];
  for (const e of entries) await walk(e, '', out);
  return out;
}

export function looksLikePair(files: PathFile[]): boolean {
  return files.some((f) => /(^|\/)manifest\.json$/.test(f.path) || f.path.endsWith('.onnx'));
}
