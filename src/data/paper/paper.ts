// Published WiSE-FT α sweeps (Tables 4 and 5 of Wortsman et al., CVPR 2022), transcribed verbatim
// in wiseft_alpha_sweep_tables4_5.csv; see README.md beside it.
import csv from './wiseft_alpha_sweep_tables4_5.csv?raw';

export const PAPER_CITATION =
  'Wortsman, Ilharco, Kim, Li, Kornblith, Roelofs, Gontijo-Lopes, Hajishirzi, Farhadi, Namkoong, Schmidt. "Robust fine-tuning of zero-shot models." CVPR 2022, Tables 4 and 5 (end-to-end fine-tuning).';

export interface PaperPoint {
  alpha: number;
  imagenet: number;
  shifts: Record<'in_v2' | 'in_r' | 'in_sketch' | 'objectnet' | 'in_a', number>;
  avgShifts: number;
}

export interface PaperCurve {
  id: string;
  label: string;
  points: PaperPoint[];
}

function parse(): PaperCurve[] {
  const [header, ...rows] = csv.trim().split(/\r?\n/);
  const cols = header!.split(',');
  const at = (r: string[], c: string) => r[cols.indexOf(c)]!;
  const curves = new Map<string, PaperCurve>();
  for (const line of rows) {
    const r = line.split(',');
    if (at(r, 'variant') !== 'end-to-end') continue;
    const model = at(r, 'model');
    const id = model.includes('L/14') ? 'vitl14' : model.includes('B/16') ? 'vitb16' : model;
    let c = curves.get(id);
    if (!c) curves.set(id, (c = { id, label: model, points: [] }));
    c.points.push({
      alpha: Number(at(r, 'alpha')),
      imagenet: Number(at(r, 'imagenet')),
      shifts: {
        in_v2: Number(at(r, 'in_v2')),
        in_r: Number(at(r, 'in_r')),
        in_sketch: Number(at(r, 'in_sketch')),
        objectnet: Number(at(r, 'objectnet')),
        in_a: Number(at(r, 'in_a')),
      },
      avgShifts: Number(at(r, 'avg_shifts')),
    });
  }
  return [...curves.values()];
}

export const PAPER_CURVES: PaperCurve[] = parse();

/** The paper's column for one of our shift sets, by its analogue. */
export const ANALOGUE_COLUMN: Record<string, keyof PaperPoint['shifts']> = {
  ImageNetV2: 'in_v2',
  ImageNetR: 'in_r',
  ImageNetSketch: 'in_sketch',
  ObjectNet: 'objectnet',
  ImageNetA: 'in_a',
};
