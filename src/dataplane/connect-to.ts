// curl's --connect-to HOST1:PORT1:HOST2:PORT2: requests for HOST1:PORT1 are dialled at HOST2:PORT2, while the
// Host header and routing keep the original name. Empty HOST1/PORT1 match anything; empty HOST2/PORT2 keep the
// original value. IPv6 literals are written in brackets.
import { isIP } from 'node:net';

export interface ConnectToRule {
  host1: string;
  port1: number | undefined;
  host2: string;
  port2: number | undefined;
}

export function parseConnectTo(spec: string): ConnectToRule {
  const parts: string[] = [];
  let rest = spec;
  for (let i = 0; i < 4; i++) {
    const isHost = i % 2 === 0;
    if (isHost && rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0) throw new Error(`invalid --connect-to "${spec}": unterminated "[" in an IPv6 address`);
      const inner = rest.slice(1, close);
      if (isIP(inner) !== 6) throw new Error(`invalid --connect-to "${spec}": "${inner}" is not an IPv6 address`);
      parts.push(inner);
      rest = rest.slice(close + 1);
      if (!rest.startsWith(':')) {
        throw new Error(`invalid --connect-to "${spec}": expected ":" after "]"`);
      }
      rest = rest.slice(1);
      continue;
    }
    const colon = i === 3 ? -1 : rest.indexOf(':');
    if (i < 3 && colon < 0) {
      throw new Error(`invalid --connect-to "${spec}": expected HOST1:PORT1:HOST2:PORT2`);
    }
    parts.push(colon < 0 ? rest : rest.slice(0, colon));
    rest = colon < 0 ? '' : rest.slice(colon + 1);
  }
  const [host1, port1, host2, port2] = parts as [string, string, string, string];
  if (port2.includes(':')) throw new Error(`invalid --connect-to "${spec}": too many ":" separators`);
  return {
    host1: host1.toLowerCase(),
    port1: parsePort(port1, 'PORT1', spec),
    host2: host2.toLowerCase(),
    port2: parsePort(port2, 'PORT2', spec),
  };
}

function parsePort(text: string, which: string, spec: string): number | undefined {
  if (text === '') return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) {
    throw new Error(`invalid --connect-to "${spec}": ${which} "${text}" is not a port number (1-65535)`);
  }
  return n;
}

/** The first rule that matches wins, as in curl. `host` is compared without brackets, case-insensitively. */
export function applyConnectTo(
  rules: readonly ConnectToRule[],
  host: string,
  port: number,
): { host: string; port: number } {
  const h = host.toLowerCase();
  for (const r of rules) {
    if ((r.host1 === '' || r.host1 === h) && (r.port1 === undefined || r.port1 === port)) {
      return { host: r.host2 === '' ? host : r.host2, port: r.port2 ?? port };
    }
  }
  return { host, port };
}

/** The rule as curl's option spells it, for handing it to another process. */
export function formatConnectTo(rule: ConnectToRule): string {
  const host = (h: string): string => (isIP(h) === 6 ? `[${h}]` : h);
  return `${host(rule.host1)}:${rule.port1 ?? ''}:${host(rule.host2)}:${rule.port2 ?? ''}`;
}
