/** Characters a backslash escapes inside double quotes, as in POSIX sh; before others it stays. */
const ESCAPED_IN_DOUBLE_QUOTES = new Set(["\\", '"', "$", "`", "\n"]);

/**
 * Splits a command line into words as a POSIX shell would, without expanding anything: spaces, tabs
 * and newlines separate words; single quotes keep everything; double quotes keep everything but
 * `\\`, `\"`, `\$`, `` \` ``; a backslash outside quotes keeps the next character. `""` is an empty
 * word. Returns null on an unclosed quote or a trailing backslash.
 */
export function splitShellWords(line: string): string[] | null {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let index = 0;
  while (index < line.length) {
    const char = line.charAt(index);
    if (char === " " || char === "\t" || char === "\n" || char === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      index++;
      continue;
    }
    if (char === "\\" && line.charAt(index + 1) === "\n") {
      index += 2; // a line continuation joins lines and makes no word
      continue;
    }
    inWord = true;
    if (char === "'") {
      const end = line.indexOf("'", index + 1);
      if (end < 0) return null;
      word += line.slice(index + 1, end);
      index = end + 1;
    } else if (char === '"') {
      index++;
      while (line.charAt(index) !== '"') {
        if (index >= line.length) return null;
        const inner = line.charAt(index);
        const next = line.charAt(index + 1);
        if (inner === "\\" && ESCAPED_IN_DOUBLE_QUOTES.has(next)) {
          word += next === "\n" ? "" : next;
          index += 2;
        } else {
          word += inner;
          index++;
        }
      }
      index++;
    } else if (char === "\\") {
      if (index + 1 >= line.length) return null;
      word += line.charAt(index + 1);
      index += 2;
    } else {
      word += char;
      index++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
