/**
 * Text written to a file through two fixed buffers: one is filled (UTF-8) while the other is
 * being written, and a full buffer waits for the write before it is filled again. Memory
 * stays at the two buffers whatever the disk's pace, and none is allocated per chunk (a
 * write stream makes a Buffer of each chunk, freed only when the GC comes round to it).
 */
import fs from 'node:fs/promises'

/** Bytes per buffer. */
const BUFFER_BYTES = 1024 * 1024

export class BufferedFile {
  private readonly buffers = [Buffer.allocUnsafe(BUFFER_BYTES), Buffer.allocUnsafe(BUFFER_BYTES)]
  private current = 0
  private used = 0
  /** The write in flight (of the other buffer); a failed one fails the next add, flush or close. */
  private writing: Promise<unknown> = Promise.resolve()

  private constructor(private readonly handle: fs.FileHandle) {}

  /** Creates (or truncates) the file; `mode` applies when it is created. */
  static async open(file: string, mode?: number): Promise<BufferedFile> {
    return new BufferedFile(await fs.open(file, 'w', mode))
  }

  /** Adds text; resolves at once unless a full buffer had to wait for the disk. */
  async write(text: string): Promise<void> {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for the worst case, else the buffer goes out first.
    if (this.used + text.length * 3 > BUFFER_BYTES) await this.flush()
    if (text.length * 3 > BUFFER_BYTES) {
      // Longer than a buffer could hold (a row with megabytes of data): on its own.
      await this.writing
      const bytes = Buffer.from(text, 'utf8')
      await this.writeAll(bytes, bytes.length)
      return
    }
    this.used += this.buffers[this.current]!.write(text, this.used)
  }

  /** Everything added so far is written (or this throws why not). */
  async flush(): Promise<void> {
    await this.writing
    if (this.used === 0) return
    const buffer = this.buffers[this.current]!
    this.writing = this.writeAll(buffer, this.used)
    // Caught here so that a failure is not unhandled; it is rethrown by the next await of `writing`.
    this.writing.catch(() => undefined)
    this.current ^= 1
    this.used = 0
  }

  private async writeAll(buffer: Buffer, length: number): Promise<void> {
    for (let offset = 0; offset < length;) {
      const { bytesWritten } = await this.handle.write(buffer, offset, length - offset)
      if (bytesWritten === 0) throw new Error('the file took no more bytes')
      offset += bytesWritten
    }
  }

  /** Writes what is left and closes the file. */
  async close(): Promise<void> {
    try {
      await this.flush()
      await this.writing
    } finally {
      await this.handle.close()
    }
  }

  /** Closes the file without writing what is left (a failed or cancelled export). */
  async abandon(): Promise<void> {
    await this.writing.catch(() => undefined)
    await this.handle.close()
  }
}
