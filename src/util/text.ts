/**
 * Control characters (NUL, ESC and the rest of C0/C1, but tab and line breaks) become U+FFFD: model output must not
 * drive a terminal, hide text in a browser or break an XML parser, and the reader still sees that something was there.
 */
export function scrubControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, "\uFFFD");
}
