/**
 * Checks a byte stream chunk by chunk, to its end: valid UTF-8 (a code point split across chunks is fine) and
 * no NUL byte. The head of a file gets a fuller check in csv-reader; this one makes sure a NUL or a Latin-1
 * byte far into a file is refused too, instead of reaching an agent as garbled text.
 */
import { ContactFileError } from './errors';

export class Utf8Guard {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private offset = 0;

  /** Throws ContactFileError naming the byte offset of the problem. */
  check(chunk: Uint8Array): void {
    const nul = chunk.indexOf(0);
    if (nul !== -1)
      throw new ContactFileError(
        'not_csv',
        `the file is binary, not CSV (NUL byte at offset ${this.offset + nul})`,
      );
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      throw new ContactFileError(
        'not_utf8',
        `the file is not valid UTF-8 text past byte ${this.offset} (a legacy encoding such as Windows-1252?); save it as "CSV UTF-8"`,
      );
    }
    this.offset += chunk.length;
  }

  /** At the end: a code point left unfinished is an error too. */
  end(): void {
    try {
      this.decoder.decode();
    } catch {
      throw new ContactFileError(
        'not_utf8',
        'the file ends inside a UTF-8 character: it is truncated or not UTF-8',
      );
    }
  }
}
