// Model and case text shown in a reviewer's terminal must not be able to drive it: escape sequences (clear screen,
// set title, hyperlinks, cursor moves), control characters and bidirectional overrides are removed before display.

// eslint-disable-next-line no-control-regex
const OSC = /\u001b\][\s\S]*?(?:\u0007|\u001b\\|$)/g; // operating-system commands (title, hyperlinks), to BEL or ST
// eslint-disable-next-line no-control-regex
const DCS = /\u001b[P^_X][\s\S]*?(?:\u001b\\|$)/g; // device-control, privacy, APC and SOS strings
// eslint-disable-next-line no-control-regex
const CSI = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]?/g; // control sequences (colours, cursor, erase)
// eslint-disable-next-line no-control-regex
const ESC = /\u001b[ -/]*[0-~]?/g; // any other escape
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The text with every escape sequence and control character removed; tabs become spaces, newlines are kept. */
export function inert(text: string | null | undefined): string {
  if (!text) return "";
  return text
    .replace(/\r\n?/g, "\n")
    .replace(OSC, "")
    .replace(DCS, "")
    .replace(CSI, "")
    .replace(ESC, "")
    .replace(/\t/g, "  ")
    .replace(CONTROL, "");
}
