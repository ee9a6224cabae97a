/**
 * A salted daily hash of IP and user agent: counts unique visitors per day without
 * storing the IP, and cannot be joined across days because the day is in the input.
 */
export async function visitorHash(salt: string, ip: string, userAgent: string, ts: number): Promise<string> {
  const day = new Date(ts).toISOString().slice(0, 10);
  const data = new TextEncoder().encode(`${salt}|${day}|${ip}|${userAgent}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  let hex = "";
  for (let i = 0; i < 16; i++) hex += (digest[i] as number).toString(16).padStart(2, "0");
  return hex;
}
