/**
 * The network a sign-in comes from, as the sign-in limits count it: an IPv4 address as it is, an IPv6 address by
 * its /64 prefix. One IPv6 host usually holds a whole /64 and can pick any address in it, so counting single IPv6
 * addresses would give it billions of fresh starts.
 */
import { isIPv4, isIPv6 } from 'node:net';

export function clientNetwork(address: string): string {
  const plain = address.replace(/%.*$/, ''); // a zone index (fe80::1%eth0) says nothing about the sender
  if (isIPv4(plain)) return plain;
  if (!isIPv6(plain)) return plain.toLowerCase().slice(0, 100); // not an IP (a Unix socket): itself, bounded
  const groups = expandIPv6(plain);
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 client of a dual-stack listener, counted as that IPv4 address.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function expandIPv6(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16));
}
