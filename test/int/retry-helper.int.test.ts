import { describe, expect, it } from 'vitest';
import { updateWithRetry } from '../../lib/client/retry';
import { addLine } from '../../lib/domain/order-lines';
import { createOrder, getOrder } from '../../lib/domain/orders';
import { InvalidStateError } from '../../lib/errors';

const context = () => ({ actor: 'batch-job', now: new Date() });

describe('updateWithRetry in-process (DynamoDB Local)', () => {
  it('20 concurrent read-modify-writes on one order all land, each exactly once', async () => {
    const { order } = await createOrder({ customer: 'ACME' }, context());
    const id = String(order.id);
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        updateWithRetry(
          {
            read: () => getOrder(id, new Date()),
            write: (current) =>
              addLine(
                id,
                { kind: 'version', version: current.version },
                { sku: `S-${n}`, quantity: 1, unitPrice: 5 },
                context(),
              ),
          },
          { attempts: 50, baseMs: 2, capMs: 100 },
        ),
      ),
    );
    const stored = await getOrder(id, new Date());
    expect(stored.version).toBe(21);
    expect((stored.lines as unknown[]).length).toBe(20);
    expect(stored.total).toBe(100);
  });

  it('does not retry an error a fresh read cannot fix', async () => {
    let writes = 0;
    await expect(
      updateWithRetry(
        {
          read: async () => 1,
          write: async () => {
            writes++;
            throw new InvalidStateError('approved');
          },
        },
        { attempts: 5, baseMs: 0, capMs: 0 },
      ),
    ).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(writes).toBe(1);
  });
});
