import { describe, expect, it } from 'vitest';
import { share } from '../../../src/state/share';

const point = (alpha: number, x: number) => ({ alpha, x, xErr: [x - 1, x + 1] as [number, number], perSet: { a: { n: 8 } } });

describe('share', () => {
  it('keeps the previous object when the new one equals it, NaN included', () => {
    const prev = { curve: [point(0, 50), point(1, 60)], perLayer: { alpha: NaN } };
    const next = { curve: [point(0, 50), point(1, 60)], perLayer: { alpha: NaN } };
    expect(share(prev, next)).toBe(prev);
  });

  it('shares the unchanged parts and takes the changed ones from next', () => {
    const prev = { curve: [point(0, 50), point(1, 60)], ens: [point(0, 40)], current: point(0.5, 55) };
    const next = { curve: [point(0, 50), point(1, 61)], ens: [point(0, 40)], current: point(0.33, 53) };
    const out = share(prev, next);
    expect(out).not.toBe(prev);
    expect(out).toEqual(next);
    expect(out.ens).toBe(prev.ens);
    expect(out.curve).not.toBe(prev.curve);
    expect(out.curve[0]).toBe(prev.curve[0]);
    // The changed point is new, its unchanged parts (its per-set record) still shared.
    expect(out.curve[1]).not.toBe(prev.curve[1]);
    expect(out.curve[1]!.perSet).toBe(prev.curve[1]!.perSet);
    expect(out.current).not.toBe(prev.current);
    expect(out.current).toEqual(next.current);
  });

  it('sees a change deep inside (one set’s n), an added or a dropped key, and a longer or shorter array', () => {
    const prev = { curve: [point(0, 50)] };
    const deeper = { curve: [{ ...point(0, 50), perSet: { a: { n: 16 } } }] };
    expect(share(prev, deeper).curve[0]!.perSet.a.n).toBe(16);
    expect(share({ a: 1 } as Record<string, number>, { a: 1, b: 2 })).toEqual({ a: 1, b: 2 });
    expect(share({ a: 1, b: 2 } as Record<string, number>, { a: 1 })).toEqual({ a: 1 });
    expect(share([1, 2], [1, 2, 3])).toEqual([1, 2, 3]);
    expect(share([1, 2, 3], [1, 2])).toEqual([1, 2]);
    expect(share({ v: null as number | null }, { v: 0 })).toEqual({ v: 0 });
  });

  it('keeps a prototype-free record prototype-free, and a "__proto__" key a key', () => {
    const rec = (n: number) => {
      const r = Object.create(null) as Record<string, number>;
      Object.defineProperty(r, '__proto__', { value: n, enumerable: true, writable: true, configurable: true });
      r.b = 1;
      return r;
    };
    const prev = rec(1);
    expect(share(prev, rec(1))).toBe(prev);
    const out = share(prev, rec(2));
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(Object.keys(out)).toEqual(['__proto__', 'b']);
    expect(out['__proto__']).toBe(2);
  });

  it('never reuses a typed array or a class instance it cannot compare', () => {
    const next = { data: new Float32Array([1]), at: new Date(0) };
    const out = share({ data: new Float32Array([1]), at: new Date(0) }, next);
    expect(out.data).toBe(next.data);
    expect(out.at).toBe(next.at);
  });
});
