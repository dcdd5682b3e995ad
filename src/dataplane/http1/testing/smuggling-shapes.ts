// Request smuggling shapes: each one a front end and a back end might frame differently. Whatever parses requests
// for tollgate must refuse every one (a 400) without any byte of the hidden request reaching a handler as a request.

export const SMUGGLING_HOST = 'site.test';

/** A request head with the given header lines. */
export const smugglingHead = (method: string, lines: readonly string[]): string =>
  `${method} http://${SMUGGLING_HOST}/ HTTP/1.1\r\nHost: ${SMUGGLING_HOST}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;

/** The request a smuggling attempt hides in a body: it must never be seen as a request. */
export const SMUGGLED = `GET http://${SMUGGLING_HOST}/smuggled HTTP/1.1\r\nHost: ${SMUGGLING_HOST}\r\n\r\n`;

const head = smugglingHead;

/** [name, the bytes]. */
export const SMUGGLING_SHAPES: readonly (readonly [string, string])[] = [
  [
    'CL.TE: Content-Length and chunked',
    `${head('POST', ['Content-Length: 6', 'Transfer-Encoding: chunked'])}0\r\n\r\n${SMUGGLED}`,
  ],
  [
    'TE.CL: chunked and Content-Length',
    `${head('POST', ['Transfer-Encoding: chunked', 'Content-Length: 4'])}5c\r\n${SMUGGLED}0\r\n\r\n`,
  ],
  [
    'duplicate Content-Length, different values',
    `${head('POST', ['Content-Length: 0', 'Content-Length: 45'])}${SMUGGLED}`,
  ],
  ['Content-Length with a list of values', `${head('POST', ['Content-Length: 0, 45'])}${SMUGGLED}`],
  ['Content-Length with a sign', `${head('POST', ['Content-Length: +45'])}${SMUGGLED}`],
  [
    'obs-fold continuing Transfer-Encoding',
    `${head('POST', ['Content-Length: 0', 'Transfer-Encoding: x', ' chunked'])}${SMUGGLED}`,
  ],
  ['space before the colon', `${head('POST', ['Transfer-Encoding : chunked', 'Content-Length: 0'])}${SMUGGLED}`],
  ['space inside a header name', `${head('POST', ['Content Length: 0'])}${SMUGGLED}`],
  [
    'bare LF ending a header line',
    `POST http://${SMUGGLING_HOST}/ HTTP/1.1\r\nHost: ${SMUGGLING_HOST}\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
  ],
  [
    'bare CR inside a header value',
    `${head('POST', ['X-A: a\rTransfer-Encoding: chunked', 'Content-Length: 0'])}${SMUGGLED}`,
  ],
  ['NUL in a header value', `${head('POST', ['X-A: a\u0000b', 'Content-Length: 0'])}${SMUGGLED}`],
  ['chunk size that is not hex', `${head('POST', ['Transfer-Encoding: chunked'])}zz\r\n${SMUGGLED}0\r\n\r\n`],
  [
    'chunk size that overflows',
    `${head('POST', ['Transfer-Encoding: chunked'])}10000000000000000\r\n${SMUGGLED}0\r\n\r\n`,
  ],
  ['chunk without its CRLF', `${head('POST', ['Transfer-Encoding: chunked'])}3\r\nabcX${SMUGGLED}0\r\n\r\n`],
  ['Transfer-Encoding not ending in chunked', `${head('POST', ['Transfer-Encoding: chunked, identity'])}${SMUGGLED}`],
  [
    'request line with a bare LF',
    `POST http://${SMUGGLING_HOST}/ HTTP/1.1\nHost: ${SMUGGLING_HOST}\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
  ],
];
