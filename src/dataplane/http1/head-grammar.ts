// A whole message head as one regular expression each, for the parse's fast path: V8 compiles a pattern to machine
// code, so one test over a head's latin1 text proves every byte of it well-formed faster than a loop per byte in
// JavaScript. A pattern matches exactly the heads wire.ts's checks accept (up to framing, checked after either way),
// given text that ends at the head's first empty line as findHeadEnd finds it; a head it does not match is parsed
// with those checks, which say what is wrong.
//
// Linear on any input: no two parts of a pattern can match the same character (a name's characters exclude ":", a
// line's exclude CR and LF, a start line's parts exclude SP), so a failed match gives back each character at most
// once. The patterns are anchored at both ends, so a head that does not match is not searched again from later
// offsets.

// tchar (RFC 9110 §5.6.2): a method, a header name.
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
// What a line may hold: HTAB, SP, visible ASCII and obs-text; no other control character, and CR only in CRLF. The
// text is latin1, one character per byte, so nothing lies above \xff.
const LINE_TEXT = '[\\t\\x20-\\x7e\\x80-\\xff]';
// A request-target: the same without SP (it ends at the next one).
const TARGET_TEXT = '[\\t\\x21-\\x7e\\x80-\\xff]';
// field-line CRLF, repeated, then the empty line that ends the head. No obs-fold: a line starts with a name.
const FIELD_LINES = `(?:${TOKEN}:${LINE_TEXT}*\\r\\n)*\\r\\n$`;

/** A token and nothing else: a method, a header name (for the checks made one by one). */
export const IS_TOKEN = new RegExp(`^${TOKEN}$`);

/** method SP request-target SP HTTP-version CRLF, field lines, CRLF. */
export const REQUEST_HEAD = new RegExp(`^${TOKEN} ${TARGET_TEXT}+ HTTP/1\\.[01]\\r\\n${FIELD_LINES}`);

/** HTTP-version SP 3DIGIT [SP reason-phrase] CRLF, field lines, CRLF. */
export const RESPONSE_HEAD = new RegExp(`^HTTP/1\\.[01] \\d{3}(?: ${LINE_TEXT}*)?\\r\\n${FIELD_LINES}`);
