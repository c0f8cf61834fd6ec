// How GpuBlender packs tensors into dispatches, planned without a GPU: S outputs per dispatch is
// what the storage-binding limit leaves, the K members share one binding where they fit, and
// a tensor that fits no binding is refused before anything is allocated.
import { describe, it, expect } from 'vitest';
import { planGroups, GpuBufferLimitError } from '../../../../src/core/gpu/blend';
import type { WeightMembers } from '../../../../src/core/blend/weights';

const MiB = 2 ** 20;

function tensors(k: number, lengths: readonly number[], fp16 = false): WeightMembers[] {
  return lengths.map((n, t) => ({
    name: `t${t}`,
    dtype: fp16 ? 'float16' : 'float32',
    feedDtype: fp16 ? 'float16' : 'float32',
    shape: [n],
    members: Array.from({ length: k }, () => new Float32Array(n)),
    ...(fp16 ? { membersHalf: Array.from({ length: k }, () => new Uint16Array(n)) } : {}),
  }));
}

describe('planGroups', () => {
  it('puts up to limit − 1 tensors in a dispatch whatever K, each starting on a workgroup boundary', () => {
    for (const k of [2, 3, 8]) {
      const groups = planGroups(
        tensors(
          k,
          Array.from({ length: 154 }, (_, i) => 1 + i * 37),
        ),
        false,
        k,
        { maxStorageBufferBindingSize: 128 * MiB, maxStorageBuffersPerShaderStage: 10 },
      );
      expect(groups.length, `K=${k}`).toBe(Math.ceil(154 / 9));
      expect(groups.every((g) => g.packed && g.tensors.length <= 9)).toBe(true);
      for (const g of groups) for (const t of g.tensors) expect(t.start % 256).toBe(0);
      expect(groups.flatMap((g) => g.tensors.map((t) => t.row))).toEqual(Array.from({ length: 154 }, (_, i) => i));
    }
  });

  it('gives a tensor whose K members pass the binding size one buffer per member, in dispatches of limit − K', () => {
    // 50 MiB a member: 3 of them pass 128 MiB, one alone does not.
    const big = (50 * MiB) / 4;
    const groups = planGroups(tensors(3, [10, big, 20, big]), false, 3, {
      maxStorageBufferBindingSize: 128 * MiB,
      maxStorageBuffersPerShaderStage: 10,
    });
    const unpacked = groups.filter((g) => !g.packed);
    expect(unpacked.flatMap((g) => g.tensors.map((t) => t.source.name))).toEqual(['t1', 't3']);
    // Two 50 MiB tensors share a member buffer (100 MiB ≤ 128 MiB), within 10 − 3 outputs.
    expect(unpacked).toHaveLength(1);
    expect(groups.filter((g) => g.packed).flatMap((g) => g.tensors.map((t) => t.source.name))).toEqual(['t0', 't2']);
  });

  it('keeps fp16 tensors blended in f16 apart from f32 ones', () => {
    const mixed = [...tensors(2, [8, 8], true), ...tensors(2, [8], false).map((t) => ({ ...t, name: 'f' }))];
    const groups = planGroups(mixed, true, 2, { maxStorageBufferBindingSize: 128 * MiB, maxStorageBuffersPerShaderStage: 8 });
    expect(groups.map((g) => [g.kind, g.tensors.length])).toEqual([
      ['f16', 2],
      ['f32', 1],
    ]);
  });

  it('refuses a tensor above one binding, and one whose members need more bindings than the device has', () => {
    const limits = { maxStorageBufferBindingSize: MiB, maxStorageBuffersPerShaderStage: 8 };
    expect(() => planGroups(tensors(2, [MiB / 4 + 4]), false, 2, limits)).toThrow(
      /tensor 't0' needs 1048592 bytes in one GPU buffer, above this device's limit of 1048576/,
    );
    expect(() => planGroups(tensors(8, [MiB / 8]), false, 8, limits)).toThrow(GpuBufferLimitError);
  });
});
