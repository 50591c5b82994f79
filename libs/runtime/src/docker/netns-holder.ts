import { Readable } from "node:stream";

/**
 * A network holder: a tiny container that does nothing but own a network endpoint (the address on
 * an environment's network) and its network namespace. An app container that joins it
 * (`NetworkMode: container:<holder>`) starts without any network set up of its own: on a
 * user-defined bridge, Docker's endpoint, firewall and embedded-DNS set-up is most of a container's
 * start (measured here: ~540 ms to start on an environment's network, ~150 ms to join a holder's).
 * One holder is made ahead, after a deploy, so that the environment's next container starts at once.
 *
 * Holders carry their own labels, not the managed ones: they are no environment's containers (a
 * listing, a count, a sweep never sees them); they go with the app container that joined them, or
 * with their network.
 */
export const HOLDER_LABELS = {
  /** The edgeplane instance that made it. */
  holder: "edgeplane.netns-holder",
  /** On an app container: the holder whose network namespace it joined. */
  joined: "edgeplane.netns",
  /** On an app container that joined a holder: the holder's address (the container has none of its own). */
  address: "edgeplane.address",
} as const;

export const HOLDER_IMAGE = "edgeplane/netns-holder:1";

/**
 * The holder's program, for x86-64 Linux: `for (;;) pause();` as a static ELF executable of 129
 * bytes (ELF header, one loadable segment, nine bytes of code). No libc, no shell, nothing to run.
 * Other architectures get no holder: their containers attach to the network themselves, as before.
 */
export function pauseProgram(arch: string = process.arch): Buffer | null {
  if (arch !== "x64") return null;
  const code = Buffer.from([0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7]); // mov eax,34 (pause); syscall; jmp back
  const base = 0x400000n;
  const headers = 64 + 56;
  const size = BigInt(headers + code.length);
  const elf = Buffer.alloc(headers);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // magic, 64-bit, little-endian, version 1, System V
  elf.writeUInt16LE(2, 16); // an executable
  elf.writeUInt16LE(0x3e, 18); // x86-64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(base + BigInt(headers), 24); // entry: the code, right after the headers
  elf.writeBigUInt64LE(64n, 32); // program headers right after this one
  elf.writeUInt16LE(64, 52);
  elf.writeUInt16LE(56, 54);
  elf.writeUInt16LE(1, 56); // one program header
  // the one loadable segment: the whole file, readable and executable
  elf.writeUInt32LE(1, 64);
  elf.writeUInt32LE(5, 68);
  elf.writeBigUInt64LE(0n, 72);
  elf.writeBigUInt64LE(base, 80);
  elf.writeBigUInt64LE(base, 88);
  elf.writeBigUInt64LE(size, 96);
  elf.writeBigUInt64LE(size, 104);
  elf.writeBigUInt64LE(0x1000n, 112);
  return Buffer.concat([elf, code]);
}

/** A tar archive holding one executable file: what `docker import` makes an image of. */
export function tarOfOneFile(name: string, content: Buffer): Readable {
  const header = Buffer.alloc(512);
  const field = (text: string, offset: number, length: number) =>
    header.write(text.padEnd(length, "\0").slice(0, length), offset, "ascii");
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, "0");
  field(name, 0, 100);
  field(`${octal(0o755, 8)}\0`, 100, 8);
  field(`${octal(0, 8)}\0`, 108, 8);
  field(`${octal(0, 8)}\0`, 116, 8);
  field(`${octal(content.length, 12)}\0`, 124, 12);
  field(`${octal(0, 12)}\0`, 136, 12);
  field("        ", 148, 8); // the checksum counts its own field as spaces
  field("0", 156, 1);
  field("ustar\0", 257, 6);
  field("00", 263, 2);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  field(`${checksum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Readable.from([Buffer.concat([header, content, padding, Buffer.alloc(1024)])]);
}
