/**
 * A minimal streaming ZIP writer (deflate, UTF-8 names, no ZIP64: entries under 4 GiB),
 * so a bundle downloads without a new dependency. Each entry is read whole, deflated
 * and written with its CRC in the local header; the central directory comes last.
 */
import { deflateRawSync } from "node:zlib";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipEntry {
  /** Path inside the archive, with forward slashes. */
  name: string;
  read: () => Promise<Uint8Array>;
}

function dosDateTime(date: Date): { time: number; date: number } {
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

/** The archive as a byte stream; `onDone` runs when it ends or the reader gives up. */
export function zipStream(entries: ZipEntry[], onDone: () => void = () => {}): ReadableStream<Uint8Array> {
  const central: Buffer[] = [];
  const stamp = dosDateTime(new Date());
  let offset = 0;
  let next = 0;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      onDone();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (next < entries.length) {
          const entry = entries[next++];
          const data = await entry.read();
          const deflated = deflateRawSync(data);
          const stored = deflated.length >= data.length; // incompressible: store as is
          const body = stored ? Buffer.from(data) : deflated;
          const name = Buffer.from(entry.name, "utf8");
          const crc = crc32(data);
          const header = Buffer.alloc(30);
          header.writeUInt32LE(0x04034b50, 0);
          header.writeUInt16LE(20, 4);
          header.writeUInt16LE(0x0800, 6); // UTF-8 names
          header.writeUInt16LE(stored ? 0 : 8, 8);
          header.writeUInt16LE(stamp.time, 10);
          header.writeUInt16LE(stamp.date, 12);
          header.writeUInt32LE(crc, 14);
          header.writeUInt32LE(body.length, 18);
          header.writeUInt32LE(data.length, 22);
          header.writeUInt16LE(name.length, 26);
          header.writeUInt16LE(0, 28);
          const record = Buffer.alloc(46);
          record.writeUInt32LE(0x02014b50, 0);
          record.writeUInt16LE(20, 4);
          record.writeUInt16LE(20, 6);
          record.writeUInt16LE(0x0800, 8);
          record.writeUInt16LE(stored ? 0 : 8, 10);
          record.writeUInt16LE(stamp.time, 12);
          record.writeUInt16LE(stamp.date, 14);
          record.writeUInt32LE(crc, 16);
          record.writeUInt32LE(body.length, 20);
          record.writeUInt32LE(data.length, 24);
          record.writeUInt16LE(name.length, 28);
          record.writeUInt32LE(offset, 42); // extra, comment, disk, attributes stay 0
          central.push(record, name);
          controller.enqueue(Buffer.concat([header, name, body]));
          offset += header.length + name.length + body.length;
          return;
        }
        const directory = Buffer.concat(central);
        const end = Buffer.alloc(22);
        end.writeUInt32LE(0x06054b50, 0);
        end.writeUInt16LE(entries.length, 8);
        end.writeUInt16LE(entries.length, 10);
        end.writeUInt32LE(directory.length, 12);
        end.writeUInt32LE(offset, 16);
        controller.enqueue(Buffer.concat([directory, end]));
        controller.close();
        finish();
      } catch (error) {
        controller.error(error);
        finish();
      }
    },
    cancel() {
      finish();
    },
  });
}
