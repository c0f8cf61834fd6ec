import { describe, expect, it } from 'vitest';
import { yieldToEventLoop } from '../../../../src/core/util/yield';

describe('yieldToEventLoop', () => {
  it('lets a message that is already queued (a cancel from the page) run before the work goes on', async () => {
    const seen: string[] = [];
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      seen.push('cancel');
      port1.close();
    };
    port2.postMessage(null);
    seen.push('before');
    await yieldToEventLoop();
    seen.push('after');
    expect(seen).toEqual(['before', 'cancel', 'after']);
  });

  it('resolves every time, many times over (no port left open)', async () => {
    let resolved = 0;
    for (let i = 0; i < 200; i++) await yieldToEventLoop().then(() => resolved++);
    expect(resolved).toBe(200);
  });
});
