import { describe, expect, it } from "vitest";
import { firstBadUtf8Byte } from "../../../src/run/utf8.js";

const bytes = (...b: number[]) => Buffer.from(b);

describe("firstBadUtf8Byte", () => {
  it.each([
    ["text", Buffer.from("hello, world"), undefined],
    ["every width", Buffer.from("aé€😀"), undefined],
    ["0xff 0xfe after 12 bytes", Buffer.concat([Buffer.from("hello, world"), bytes(0xff, 0xfe)]), 12],
    ["a lone continuation byte", bytes(0x61, 0x80), 1],
    ["an overlong slash", bytes(0xc0, 0xaf), 0],
    ["an overlong three-byte form", bytes(0xe0, 0x80, 0xaf), 0],
    ["a surrogate", bytes(0x61, 0xed, 0xa0, 0x80), 1],
    ["above U+10FFFF", bytes(0xf4, 0x90, 0x80, 0x80), 0],
    ["a sequence cut short at the end", Buffer.concat([Buffer.from("ab"), bytes(0xe2, 0x82)]), 2],
  ])("%s", (_, input, expected) => {
    expect(firstBadUtf8Byte(input)).toBe(expected);
  });

  it("agrees with the WHATWG decoder on random bytes: valid up to the offset, a replacement character there", () => {
    const fatal = new TextDecoder("utf-8", { fatal: true });
    for (let n = 0; n < 2000; n++) {
      const input = Buffer.from(Array.from({ length: 1 + (n % 12) }, () => (Math.random() < 0.5 ? 0x80 + Math.floor(Math.random() * 0x80) : Math.floor(Math.random() * 0x100))));
      const offset = firstBadUtf8Byte(input);
      if (offset === undefined) {
        expect(() => fatal.decode(input)).not.toThrow();
        continue;
      }
      expect(() => fatal.decode(input)).toThrow();
      const before = fatal.decode(input.subarray(0, offset));
      expect(input.toString("utf8").startsWith(`${before}\uFFFD`)).toBe(true);
    }
  });
});
