import { BSON, type Document } from 'mongodb';
import { displayJson } from '../../proxy-core/display-text';

/**
 * Documents as the read-only JSON document shows them: one JSON array in MongoDB Extended JSON, relaxed (what
 * mongoexport and Compass's JSON view print: `{"$oid": …}`, `{"$date": "…"}`, plain numbers), two-space indented.
 * Valid JSON, so VS Code's JSON mode folds and highlights it. Strings are the database's data: characters that would
 * reorder or hide text (bidi, C1) become JSON `\u` escapes, per line, so the text still parses to the same values.
 */
export function renderDocuments(documents: Document[]): string {
  const json = BSON.EJSON.stringify(documents, undefined, 2, { relaxed: true });
  return `${json.split('\n').map(displayJson).join('\n')}\n`;
}
