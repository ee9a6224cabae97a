/**
 * Whether a host, as the WHATWG URL parser normalized it, names this machine or a
 * private network. The parser has already turned every IPv4 spelling (127.1, 0x7f000001,
 * 2130706433, 0177.0.0.1) into dotted decimal and every IPv6 address into its compressed
 * hex form, so only those canonical forms are checked here. Names that merely resolve to
 * such addresses are not caught: the edge cannot resolve DNS.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host.startsWith("[")) return isPrivateIpv6(host.slice(1, -1));
  const ipv4 = parseIpv4(host);
  return ipv4 !== null && isPrivateIpv4(ipv4);
}

/**
 * [network, prefix length]: this network (with 0.0.0.0), RFC 1918, CGNAT, loopback, link-local,
 * benchmarking, multicast, and reserved (with the 255.255.255.255 broadcast address).
 */
const PRIVATE_IPV4: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];
const PRIVATE_IPV4_RANGES = PRIVATE_IPV4.map(([net, bits]) => ({ net: parseIpv4(net) ?? 0, bits }));

function isPrivateIpv4(ip: number): boolean {
  return PRIVATE_IPV4_RANGES.some(({ net, bits }) => ip >>> (32 - bits) === net >>> (32 - bits));
}

function parseIpv4(host: string): number | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!match) return null;
  return match.slice(1).reduce((ip, octet) => ip * 256 + Number(octet), 0);
}

function isPrivateIpv6(text: string): boolean {
  const g = parseIpv6(text);
  // The parser only hands over valid addresses; anything else is refused rather than guessed at.
  if (g === null) return true;
  const embeddedIpv4 = g[6] * 0x10000 + g[7];
  const zeroUpTo = (n: number) => g.slice(0, n).every((group) => group === 0);
  // ::/96 holds the unspecified address, loopback and the deprecated IPv4-compatible form: no public host.
  if (zeroUpTo(6)) return true;
  if (zeroUpTo(5) && g[5] === 0xffff) return isPrivateIpv4(embeddedIpv4); // IPv4-mapped
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((group) => group === 0);
  if (nat64) return isPrivateIpv4(embeddedIpv4); // 64:ff9b::/96 reaches the embedded IPv4 address
  if (g[0] === 0x2002) return isPrivateIpv4(g[1] * 0x10000 + g[2]); // 6to4 2002::/16: IPv4 in bits 16..47
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast ff00::/8
  if ((g[0] & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g[0] & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  return (g[0] & 0xffc0) === 0xfec0; // site-local fec0::/10 (deprecated, still private)
}

type Ipv6Groups = [number, number, number, number, number, number, number, number];

/** The eight 16-bit groups of a compressed IPv6 address (hex groups only, as the parser writes them). */
function parseIpv6(text: string): Ipv6Groups | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string | undefined) => (part ? part.split(":") : []);
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
  return groups.map((group) => Number.parseInt(group, 16)) as Ipv6Groups;
}
