import { describe, expect, it } from 'vitest';

describe('runtime', () => {
  it('runs the tests on Node 22, the Lambda runtime, whatever the machine’s own Node is', () => {
    expect(process.versions.node.split('.')[0]).toBe('22');
  });
});
