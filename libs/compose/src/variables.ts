import { ComposeError } from "./error.ts";

/** One piece of a value: literal text, or a variable with an optional fallback (`:-` also covers empty). */
type Segment = { text: string } | { name: string; fallback: Segment[] | null; whenEmpty: boolean };

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
// biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable syntax, shown to the user
const FORMS = "${NAME}, ${NAME:-default}, ${NAME-default} or $NAME; write $$ for a literal $";

/**
 * Reads compose's variable syntax: `${NAME}`, `${NAME:-default}` (default when unset or empty),
 * `${NAME-default}` (default when unset), `$NAME`, and `$$` for a literal `$`. A default may hold
 * references of its own. Anything else after a `$` is refused, as docker-compose refuses it.
 */
function parseTemplate(value: string, path: string): Segment[] {
  let index = 0;

  function name(): string | null {
    NAME.lastIndex = index;
    const match = NAME.exec(value);
    if (!match) return null;
    index += match[0].length;
    return match[0];
  }

  function segments(inFallback: boolean): Segment[] {
    const out: Segment[] = [];
    let text = "";
    while (index < value.length) {
      const char = value[index];
      if (inFallback && char === "}") break;
      if (char !== "$") {
        text += char;
        index++;
        continue;
      }
      index++;
      if (value[index] === "$") {
        text += "$";
        index++;
        continue;
      }
      if (text) out.push({ text });
      text = "";
      out.push(value[index] === "{" ? braced() : bare());
    }
    if (text) out.push({ text });
    return out;
  }

  function bare(): Segment {
    const found = name();
    if (!found) {
      const near = value.slice(index, index + 10);
      throw new ComposeError(path, `invalid variable reference at "$${near}": use ${FORMS}`);
    }
    return { name: found, fallback: null, whenEmpty: false };
  }

  function braced(): Segment {
    const start = index - 1;
    index++; // past "{"
    const found = name();
    if (!found) {
      const near = value.slice(start, start + 12);
      throw new ComposeError(path, `invalid variable reference at "${near}": use ${FORMS}`);
    }
    if (value[index] === "}") {
      index++;
      return { name: found, fallback: null, whenEmpty: false };
    }
    const whenEmpty = value.startsWith(":-", index);
    if (!whenEmpty && value[index] !== "-") {
      throw new ComposeError(
        path,
        `unsupported variable reference "${value.slice(start, start + 30)}": use ${FORMS}`,
      );
    }
    index += whenEmpty ? 2 : 1;
    const fallback = segments(true);
    if (value[index] !== "}") {
      throw new ComposeError(path, `unclosed variable reference "${value.slice(start, start + 30)}"`);
    }
    index++;
    return { name: found, fallback, whenEmpty };
  }

  return segments(false);
}

function evaluate(segments: Segment[], vars: Record<string, string>): string {
  let out = "";
  for (const segment of segments) {
    if ("text" in segment) {
      out += segment.text;
      continue;
    }
    const value = Object.hasOwn(vars, segment.name) ? vars[segment.name] : undefined;
    const useFallback = value === undefined || (segment.whenEmpty && value === "");
    out += useFallback ? (segment.fallback ? evaluate(segment.fallback, vars) : "") : value;
  }
  return out;
}

function collect(segments: Segment[], into: Set<string>): Set<string> {
  for (const segment of segments) {
    if ("text" in segment) continue;
    into.add(segment.name);
    if (segment.fallback) collect(segment.fallback, into);
  }
  return into;
}

/**
 * Substitutes variables as docker-compose does, from a complete map: at deploy time every name an
 * environment value may use is known, so an unknown name becomes "" (or its default). Throws a
 * ComposeError on malformed syntax, which parseCompose has already refused for the file's values.
 */
export function interpolate(value: string, vars: Record<string, string>): string {
  return evaluate(parseTemplate(value, ""), vars);
}

/** The names a value refers to with `${...}` or `$NAME`, in order of first use (`$$` is no reference). */
export function referencedVariables(value: string): string[] {
  return [...collect(parseTemplate(value, ""), new Set())];
}

/** The variables of a value at `path`, with syntax errors reported there. */
export function variablesAt(value: string, path: string): string[] {
  return [...collect(parseTemplate(value, path), new Set())];
}

/**
 * A value outside `environment`, read literally: `$$` stands for `$` as in docker-compose, and a
 * variable is refused, since edgeplane substitutes variables only in environment values.
 */
export function literal(value: string, path: string): string {
  const segments = parseTemplate(value, path);
  const variable = segments.find((segment) => "name" in segment);
  if (variable && "name" in variable) {
    throw new ComposeError(
      path,
      `refers to $${variable.name}: variables are substituted only in environment values; write $$ for a literal $`,
    );
  }
  return segments.map((segment) => ("text" in segment ? segment.text : "")).join("");
}
