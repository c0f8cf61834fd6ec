// The contrast arithmetic of the browser's accessibility check (tests/browser/setup/a11y.ts)
// against WCAG's published extremes and colours whose ratios are known.
import { describe, it, expect } from 'vitest';
import { contrastOf } from '../browser/setup/a11y';

const text = (ink: string, backgrounds: string[], opacity = 1, fontSize = 16, fontWeight = 400) => ({
  text: 't',
  ink,
  opacity,
  backgrounds,
  fontSize,
  fontWeight,
});

describe('the contrast check', () => {
  it('gives 21:1 for black on white and 1:1 for white on white', () => {
    expect(contrastOf(text('rgb(0, 0, 0)', ['rgb(255, 255, 255)'])).ratio).toBe(21);
    expect(contrastOf(text('rgb(255, 255, 255)', ['rgba(0, 0, 0, 0)'])).ratio).toBe(1);
  });

  it("finds orange-600 under 4.5:1 on white (3.56) and recharts' #808080 axis names (3.95)", () => {
    expect(contrastOf(text('rgb(234, 88, 12)', ['rgb(255, 255, 255)'])).ratio).toBe(3.56);
    expect(contrastOf(text('rgb(128, 128, 128)', ['rgba(0, 0, 0, 0)', 'rgb(255, 255, 255)'])).ratio).toBe(3.95);
  });

  it('composites translucent backgrounds and opacity, and asks 3:1 of large text only', () => {
    // Half-transparent black over white is mid grey; black text at opacity 0.5 over white is too.
    const grey = contrastOf(text('rgb(0, 0, 0)', ['rgba(0, 0, 0, 0.5)', 'rgb(255, 255, 255)']));
    expect(grey.background).toBe('rgb(128,128,128)');
    expect(contrastOf(text('rgb(0, 0, 0)', ['rgb(255, 255, 255)'], 0.5)).color).toBe('rgb(128,128,128)');
    expect(contrastOf(text('rgb(0, 0, 0)', [], 1, 24)).needed).toBe(3);
    expect(contrastOf(text('rgb(0, 0, 0)', [], 1, 19, 700)).needed).toBe(3);
    expect(contrastOf(text('rgb(0, 0, 0)', [], 1, 19, 400)).needed).toBe(4.5);
  });
});
