// Training images for a linear probe from a dropped folder laid out <class>/<image>. The bundled
// pair ships no training split (its eval sets are the test draw shown on the chart), so the images
// a probe learns from are the user's, never the sets it is then measured on.
import { IMAGE_FILE, normalizeClassName } from '../eval/folder';
import { TrainingError } from './data';

export interface TrainingFile {
  path: string;
  label: number;
}

/**
 * One labelled file per image under a class folder named after one of the pair's classes. A single
 * wrapping folder (the dropped root) is stripped; hidden files and non-images are left out.
 */
export function planTrainingFolder(paths: readonly string[], classes: readonly string[]): TrainingFile[] {
  const byName = new Map(classes.map((c, i) => [normalizeClassName(c), i]));
  const images = paths
    .map((p) => p.replace(/\\/g, '/').replace(/^\/+/, ''))
    .filter((p) => IMAGE_FILE.test(p) && !p.split('/').some((s) => s.startsWith('.')));
  if (images.length === 0)
    throw new TrainingError('no images found: expected a folder laid out <class>/<image>, e.g. circle/001.png, one folder per class');
  let parts = images.map((p) => p.split('/'));
  while (parts.every((x) => x.length > 2) && new Set(parts.map((x) => x[0])).size === 1) parts = parts.map((x) => x.slice(1));
  const out: TrainingFile[] = [];
  const unknown = new Set<string>();
  parts.forEach((x, i) => {
    const cls = x.length >= 2 ? x[x.length - 2]! : '';
    const label = byName.get(normalizeClassName(cls));
    if (label === undefined) unknown.add(cls || x.join('/'));
    else out.push({ path: images[i]!, label });
  });
  if (unknown.size > 0) {
    const list = [...unknown].slice(0, 5).map((c) => `'${c}'`);
    throw new TrainingError(
      `${unknown.size} folder${unknown.size > 1 ? 's' : ''} (${list.join(', ')}${unknown.size > 5 ? ', …' : ''}) match none of the pair's classes (${classes.slice(0, 4).join(', ')}, …): lay the training images out as <class>/<image>, one folder per class`,
    );
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
