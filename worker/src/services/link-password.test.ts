import { describe, expect, it } from "vitest";
import { hashPassword, PASSWORD_ITERATIONS, verifyPassword } from "./link-password";

describe("link passwords", () => {
  it("hash with 100,000 iterations and a new salt each time, and verify only the same password", async () => {
    const a = await hashPassword("open sesame");
    const b = await hashPassword("open sesame");
    expect(a).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("open sesame", a)).toBe(true);
    expect(await verifyPassword("open sesame", b)).toBe(true);
    expect(await verifyPassword("open sesame ", a)).toBe(false);
    expect(await verifyPassword("", a)).toBe(false);
  });

  it("verify a hash made with fewer iterations, as stored", async () => {
    const stored = await hashPassword("pässwörd 🔑", 1000);
    expect(stored.split("$")[1]).toBe("1000");
    expect(await verifyPassword("pässwörd 🔑", stored)).toBe(true);
    expect(await verifyPassword("passwort", stored)).toBe(false);
  });

  it("refuse hashes this code cannot read instead of throwing", async () => {
    const good = await hashPassword("x", 1000);
    const [, , salt, hash] = good.split("$");
    for (const stored of [
      "",
      "x",
      `bcrypt$1000$${salt}$${hash}`,
      `pbkdf2-sha256$${PASSWORD_ITERATIONS + 1}$${salt}$${hash}`,
      `pbkdf2-sha256$0$${salt}$${hash}`,
      `pbkdf2-sha256$1e3$${salt}$${hash}`,
      `pbkdf2-sha256$1000$${salt}$${hash?.slice(1)}`,
      `pbkdf2-sha256$1000$${salt}$!!!`,
      `pbkdf2-sha256$1000$$${hash}`,
    ]) {
      expect(await verifyPassword("x", stored), stored).toBe(false);
    }
  });
});
