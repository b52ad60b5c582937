// Syntax checks for the `ips` claim: an IPv4 or IPv6 address, optionally with
// a /prefix. Pure string parsing, so it runs on every runtime (no node:net).

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  if (s.length === 0 || s.includes('%')) return false;
  let head = s;
  let tailGroups = 0;
  // An embedded IPv4 address (e.g. ::ffff:192.0.2.1) counts as two groups.
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(s.slice(lastColon + 1))) return false;
    head = s.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
    tailGroups = 2;
  }
  const group = /^[0-9a-fA-F]{1,4}$/;
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const count = (h: string): number | null => {
    if (h === '') return 0;
    const g = h.split(':');
    return g.every((x) => group.test(x)) ? g.length : null;
  };
  if (halves.length === 1) {
    const n = count(halves[0] as string);
    return n !== null && n + tailGroups === 8;
  }
  const a = count(halves[0] as string);
  const b = count(halves[1] as string);
  return a !== null && b !== null && a + b + tailGroups <= 7;
}

/** True when `s` is an IP address or a CIDR (`10.0.0.0/8`, `2001:db8::/32`). */
export function isIPOrCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const prefix = slash < 0 ? null : s.slice(slash + 1);
  let bits: number;
  if (isIPv4(addr)) bits = 32;
  else if (isIPv6(addr)) bits = 128;
  else return false;
  if (prefix === null) return true;
  return /^(0|[1-9][0-9]{0,2})$/.test(prefix) && Number(prefix) <= bits;
}
