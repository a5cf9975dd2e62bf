/** Length in Unicode code points, so an emoji counts as one character, as a person would count it. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
