import { z } from 'zod';
import { isSafeRelativePath } from './paths';
import { isReservedKey } from '../eval/ids';

// The pair bundle's manifest (docs/bundle-format.md). Validated with zod so that a hostile or
// broken manifest fails with a message naming the field, before anything is fetched.

const relPath = z.string().refine(isSafeRelativePath, {
  message:
    'must be a relative path inside the bundle (no "..", no absolute path or URL, no "?", "#", percent-encoded dots or slashes, or control characters)',
});

const modelFile = z.object({
  path: relPath,
  bytes: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 33)
    .optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

/** The folder a bundle path is in ('' at the top): ONNX names external data relative to it. */
export function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}

// A checkpoint over protobuf's 2 GB (a ViT-L/14) keeps its weights in external data files, named
// by the model relative to its own folder: each must be listed here, in that folder or below.
const checkpoint = modelFile.extend({ externalData: z.array(modelFile).min(1).max(64).optional() }).superRefine((m, ctx) => {
  const dir = folderOf(m.path);
  m.externalData?.forEach((f, i) => {
    if (!f.path.startsWith(dir) || f.path === m.path)
      ctx.addIssue({
        code: 'custom',
        path: ['externalData', i, 'path'],
        message: `must be a file in the model's folder ('${dir || '.'}') or below it, where the model's external data locations point`,
      });
  });
});

const analogue = z.enum(['ImageNet', 'ImageNetV2', 'ImageNetR', 'ImageNetSketch', 'ObjectNet', 'ImageNetA']);

const evalSet = z.object({
  // Ids key results in plain objects: "__proto__", "constructor" and the like would corrupt them.
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1-40 letters, digits, _ or -')
    .refine((id) => !isReservedKey(id), {
      message: 'is a name JavaScript objects reserve (like "constructor" or "__proto__"): choose another set id',
    }),
  name: z.string().min(1).max(120),
  role: z.enum(['reference', 'shift']),
  analogue: analogue.optional().nullable(),
  description: z.string().max(2000).optional(),
  sprite: z.object({
    path: relPath,
    bytes: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 33)
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    tile: z.number().int().min(1).max(1024),
    columns: z.number().int().min(1).max(4096),
    count: z.number().int().min(1).max(1_000_000),
  }),
  labels: z.array(z.number().int().nonnegative()).max(1_000_000),
  classes: z.array(z.number().int().nonnegative()).nullable().optional(),
});

// v2 (several fine-tuned members) differs from v1 only in "models". A v2 member id is used in
// the URL hash and on the command line, so it is kept to a small, URL-safe alphabet.
const memberId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit');

const member = z.object({
  id: memberId,
  name: z.string().min(1).max(200),
  kind: z.enum(['end-to-end', 'linear-classifier']),
  seed: z.number().int().optional(),
  description: z.string().max(5000).optional(),
  model: checkpoint,
  // Recorded sweeps (wise-ft JSON lines) on this bundle's eval sets, so a curve shows at once.
  sweeps: z.object({ weight: modelFile.optional(), output: modelFile.optional() }).optional(),
  // The α the bundle's maker recommends for this member, chosen on data that is not in the bundle
  // (a validation draw), and what it was chosen on, in words the app shows beside it.
  recommendedAlpha: z
    .object({
      alpha: z
        .number()
        .gt(0)
        .lt(1)
        .refine((a) => Math.abs(100 * a - Math.round(100 * a)) < 1e-9, { message: 'must be on the 0.01 grid (α in hundredths)' }),
      chosenOn: z
        .string()
        .max(240)
        .refine((t) => t.trim().length > 0, { message: 'must say what the α was chosen on' }),
    })
    .optional(),
});

const modelsV1 = z.object({ zeroShot: checkpoint, fineTuned: checkpoint });
const modelsV2 = z.object({ zeroShot: checkpoint, members: z.array(member).min(1).max(256) });

const common = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(5000).optional(),
  citation: z.string().max(5000).optional(),
  io: z
    .object({ image: z.string().min(1), embedding: z.string().min(1), logits: z.string().min(1) })
    .default({ image: 'image', embedding: 'embedding', logits: 'logits' }),
  text: z
    .object({
      model: modelFile,
      tokenizer: relPath,
      contextLength: z.number().int().min(1).max(1024),
      padId: z.number().int().nonnegative(),
      input: z.string().min(1),
      output: z.string().min(1),
    })
    .optional(),
  logitScale: z.number().positive().max(1e4),
  templates: z
    .array(z.string().includes('{}', { message: 'each template needs a "{}" for the class name' }))
    .min(1)
    .max(200),
  classes: z.array(z.string().min(1).max(200)).min(2).max(100_000),
  preprocess: z.object({
    size: z.number().int().min(1).max(2048),
    resize: z.enum(['bicubic', 'bilinear']),
    crop: z.literal('center'),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    layout: z.literal('NCHW'),
  }),
  eval: z.object({ sets: z.array(evalSet).min(1).max(64) }).optional(),
});

// The format picks the models block (the one part v1 and v2 differ in), so an error inside it
// names the exact field, e.g. `models.members.1.model.path`, not "invalid union".
const rawManifestSchema = z.discriminatedUnion('format', [
  common.extend({ format: z.literal('wiseft-pair/1'), models: modelsV1 }),
  common.extend({ format: z.literal('wiseft-pair/2'), models: modelsV2 }),
]);

type ModelFile = z.infer<typeof checkpoint>;
export type MemberSpec = z.infer<typeof member>;

/**
 * A v1 pair is a v2 bundle with one member: the rest of the code sees one shape. Its id is fixed
 * so that the CLI's --member and the URL's member= work the same on both formats.
 */
export const V1_MEMBER_ID = 'fine-tuned';

function normaliseModels(models: z.infer<typeof modelsV1> | z.infer<typeof modelsV2>): { zeroShot: ModelFile; members: MemberSpec[] } {
  if ('members' in models) return { zeroShot: models.zeroShot, members: models.members };
  return { zeroShot: models.zeroShot, members: [{ id: V1_MEMBER_ID, name: 'Fine-tuned', kind: 'end-to-end', model: models.fineTuned }] };
}

type RawManifest = z.infer<typeof rawManifestSchema>;
type RawSet = NonNullable<RawManifest['eval']>['sets'][number];
/** Records one problem at `path`, relative to what the checker was given. */
type AddIssue = (path: (string | number)[], message: string) => void;

export const manifestSchema = rawManifestSchema
  .superRefine((m, ctx) => {
    const issue: AddIssue = (path, message) => ctx.addIssue({ code: 'custom', path, message });
    const sets = m.eval?.sets ?? [];
    const refs = sets.filter((s) => s.role === 'reference').length;
    if (sets.length > 0 && refs !== 1) issue(['eval', 'sets'], `exactly one set must have role "reference" (found ${refs})`);
    const ids = new Set<string>();
    sets.forEach((s, i) => {
      if (ids.has(s.id)) issue(['eval', 'sets', i, 'id'], `duplicate set id '${s.id}'`);
      ids.add(s.id);
      checkSet(s, m, (path, message) => issue(['eval', 'sets', i, ...path], message));
    });
    if (m.format === 'wiseft-pair/2') {
      const memberIds = new Set<string>();
      m.models.members.forEach((x, i) => {
        if (memberIds.has(x.id)) issue(['models', 'members', i, 'id'], `duplicate member id '${x.id}'`);
        memberIds.add(x.id);
      });
    }
  })
  .transform((m) => ({ ...m, models: normaliseModels(m.models) }));

/** One eval set against the manifest: its labels (one per image, each a class), its tiles' size. */
function checkSet(s: RawSet, m: RawManifest, issue: AddIssue): void {
  if (s.labels.length !== s.sprite.count) issue(['labels'], `has ${s.labels.length} labels for ${s.sprite.count} images`);
  const bad = s.labels.findIndex((l) => l >= m.classes.length);
  if (bad >= 0) issue(['labels', bad], `class index ${s.labels[bad]} is out of range (${m.classes.length} classes)`);
  if (s.sprite.tile !== m.preprocess.size)
    issue(['sprite', 'tile'], `tiles are ${s.sprite.tile}px but the model takes ${m.preprocess.size}px`);
  s.classes?.forEach((c, j) => {
    if (c >= m.classes.length) issue(['classes', j], `class index ${c} is out of range`);
  });
}

/** The manifest as the code sees it: v1 normalised to one member (see normaliseModels). */
export type Manifest = z.output<typeof manifestSchema>;
/** The manifest as written in manifest.json (v1 or v2), for code that writes bundles. */
export type ManifestInput = z.input<typeof manifestSchema>;
export type EvalSetSpec = NonNullable<Manifest['eval']>['sets'][number];

export class ManifestError extends Error {
  override name = 'ManifestError';
}

export class UnknownMemberError extends ManifestError {
  override name = 'UnknownMemberError';
}

/** The member with this id (the first, the default, when id is null); an unknown id names the ones there are. */
export function selectMember(m: Manifest, id: string | null | undefined): MemberSpec {
  if (id === null || id === undefined) return m.models.members[0]!;
  const found = m.models.members.find((x) => x.id === id);
  if (!found)
    throw new UnknownMemberError(`this bundle has no member '${id}' (its members: ${m.models.members.map((x) => x.id).join(', ')})`);
  return found;
}

/** Parses and validates manifest JSON; errors name the offending field, e.g. `eval.sets.2.labels`. */
export function parseManifest(text: string | Uint8Array): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text));
  } catch (e) {
    throw new ManifestError(`manifest.json is not valid JSON: ${(e as Error).message}`);
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 4).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new ManifestError(
      `manifest.json is invalid — ${issues.join('; ')}${r.error.issues.length > 4 ? ` (and ${r.error.issues.length - 4} more)` : ''}`,
    );
  }
  return r.data;
}
