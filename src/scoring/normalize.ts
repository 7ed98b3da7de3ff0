/** Full-width ASCII (Ａ, １, ：) to half-width, so Chinese-keyboard answers parse like English ones. */
export function toHalfWidth(s: string): string {
  return s.replace(/[\uff01-\uff5e]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, " ");
}
