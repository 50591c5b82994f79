import { parseDocument } from "yaml";
import { ComposeError } from "./error.ts";

export const MAX_COMPOSE_BYTES = 256 * 1024;
/** Aliases a document may expand: enough for anchors shared between services, far from a billion laughs. */
const MAX_ALIAS_COUNT = 100;

/** The parser's message without its excerpt of the source: "... at line 4, column 1". */
function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").replace(/:$/, "");
}

/**
 * One YAML document as plain data. Refuses more than 256 KiB, several documents, duplicate keys, tags
 * it does not know (such as compose's `!reset`) and alias expansion past a small bound. Merge keys
 * (`<<: *defaults`) work.
 */
export function readYaml(text: string): unknown {
  // UTF-8 takes at least one byte per UTF-16 unit: a long string is refused before it is encoded.
  const bytes = text.length > MAX_COMPOSE_BYTES ? text.length : new TextEncoder().encode(text).byteLength;
  if (bytes > MAX_COMPOSE_BYTES) {
    throw new ComposeError("", `the compose file is over 256 KiB (${MAX_COMPOSE_BYTES} bytes)`);
  }
  const document = parseDocument(text, { uniqueKeys: true, merge: true, prettyErrors: true });
  const [problem] = [...document.errors, ...document.warnings];
  if (problem) throw new ComposeError("", `invalid YAML: ${firstLine(problem.message)}`);
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml throws a ReferenceError for an alias it cannot resolve or for excessive aliasing.
    if (error instanceof ReferenceError) throw new ComposeError("", `invalid YAML: ${error.message}`);
    throw error;
  }
}
