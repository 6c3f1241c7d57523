import * as z from 'zod';
import { documentedKeywords } from '../domain/schemas/common';

type Json = Record<string, unknown>;

/**
 * JSON Schema of a zod schema, with what its refinements say (declared beside them with
 * `documented`, lib/domain/schemas/common.ts) added: patterns, enums, `not`, `minProperties`.
 */
export const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema: converted }) => {
      const keywords = documentedKeywords.get(zodSchema);
      if (!keywords) return;
      const added =
        typeof keywords === 'function'
          ? keywords((inner) => jsonSchema(inner as unknown as z.ZodType, io))
          : keywords;
      for (const [key, value] of Object.entries(added)) {
        const target = converted as Json;
        if (value === undefined) delete target[key];
        else if (key === 'properties' && typeof target.properties === 'object')
          target.properties = { ...(target.properties as Json), ...(value as Json) };
        else target[key] = value;
      }
      // A record of any member (`{base, set}`) whose members are now declared.
      if ('properties' in added && (converted as Json).propertyNames)
        delete (converted as Json).propertyNames;
    },
  }) as Json;
  return rest;
};
