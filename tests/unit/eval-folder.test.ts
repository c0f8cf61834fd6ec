import { describe, it, expect } from 'vitest';
import { zipSync } from 'fflate';
import { planEvalFolder, unzipEntries, EvalFolderError } from '../../src/core/eval/folder';

const CLASSES = ['circle', 'square', 'triangle', 'star', 'golden retriever'];

describe('bring-your-own eval sets: <set>/<class>/<image>', () => {
  it('plans one set per folder, matches class folders to the classes, and records a class subset', () => {
    const plan = planEvalFolder(
      [
        'my-sets/photos/circle/1.png',
        'my-sets/photos/square/2.jpg',
        'my-sets/photos/triangle/3.png',
        'my-sets/photos/star/4.png',
        'my-sets/photos/Golden_Retriever/5.webp',
        'my-sets/sketches/circle/a.png',
        'my-sets/sketches/star/b.png',
        'my-sets/sketches/notes.txt',
        'my-sets/.DS_Store',
      ],
      CLASSES,
    );
    expect(plan.map((s) => s.id)).toEqual(['photos', 'sketches']);
    expect(plan[0]!.files.map((f) => f.label).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(plan[0]!.classSubset).toBeNull();
    expect(plan[1]!.classSubset).toEqual([0, 3]);
  });

  it('puts a set named "reference" first', () => {
    const plan = planEvalFolder(['a/circle/1.png', 'reference/square/1.png'], CLASSES);
    expect(plan[0]!.id).toBe('reference');
  });

  it('explains a folder without class folders', () => {
    expect(() => planEvalFolder(['photos/1.png', 'photos/2.png'], CLASSES)).toThrow(
      /not inside a <set>\/<class>\/ folder: expected <set>\/<class>\/<image>/,
    );
  });

  it('names class folders that match no class', () => {
    expect(() => planEvalFolder(['s/circle/1.png', 's/hexagon/1.png', 's/blob/2.png'], CLASSES)).toThrow(
      /2 class folders \('hexagon', 'blob'\) match none of the pair's 5 classes/,
    );
  });

  it('explains a drop with no images at all', () => {
    expect(() => planEvalFolder(['a/b/readme.txt'], CLASSES)).toThrow(EvalFolderError);
  });

  it('unzips a zip of the folder and refuses entries that leave it (zip slip)', () => {
    const ok = zipSync({ 'sets/photos/circle/1.png': new Uint8Array([1, 2, 3]) });
    expect([...unzipEntries(ok).keys()]).toEqual(['sets/photos/circle/1.png']);
    const evil = zipSync({ '../../etc/passwd': new Uint8Array([1]) });
    expect(() => unzipEntries(evil)).toThrow(/outside its folder: refused/);
    expect(() => unzipEntries(new Uint8Array([80, 75, 3, 4, 0, 0]))).toThrow(EvalFolderError);
  });
});
