/**
 * Collects expression attribute names and values while a condition or update expression
 * is being built, so callers write clauses with readable placeholders and never splice
 * user data into expression text.
 */
export class ExpressionBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private nameCount = 0;
  private valueCount = 0;
  private readonly nameByAttribute = new Map<string, string>();

  /** Placeholder for an attribute name; a dotted path (`idem.k`) becomes a document path. */
  name(path: string): string {
    return path
      .split('.')
      .map((part) => {
        let placeholder = this.nameByAttribute.get(part);
        if (!placeholder) {
          placeholder = `#n${this.nameCount++}`;
          this.nameByAttribute.set(part, placeholder);
          this.names[placeholder] = part;
        }
        return placeholder;
      })
      .join('.');
  }

  /** Placeholder for a value. */
  value(value: unknown): string {
    const placeholder = `:v${this.valueCount++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The names and values in the shape the SDK wants (undefined when empty, as DynamoDB requires). */
  attributes(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    return {
      ...(this.nameCount > 0 ? { ExpressionAttributeNames: this.names } : {}),
      ...(this.valueCount > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** A condition made of named clauses; each is a reason the write may not happen. */
export const allOf = (clauses: readonly string[]): string =>
  clauses.map((clause) => `(${clause})`).join(' AND ');

/** `SET a = :x, ... REMOVE b, ...` from its parts; empty parts are left out. */
export const updateExpression = (set: readonly string[], remove: readonly string[] = []): string =>
  [set.length > 0 ? `SET ${set.join(', ')}` : '', remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
