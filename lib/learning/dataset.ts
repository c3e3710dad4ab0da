/**
 * The pieces of a YOLO training dataset as a tar archive: label lines, data.yaml, and tar (ustar) headers, so the
 * archive can be streamed entry by entry without holding it in memory. No broker in here.
 */

/** Clamped to the image. */
const unit = (v: number) => Math.min(1, Math.max(0, v));

/** One YOLO label line, `class cx cy w h`, from a normalised [x1, y1, x2, y2] box. */
export function yoloLine(classIndex: number, box: readonly [number, number, number, number]): string {
	const [x1, y1, x2, y2] = [unit(box[0]), unit(box[1]), unit(box[2]), unit(box[3])];
	const fixed = (v: number) => v.toFixed(6);
	return `${classIndex} ${fixed((x1 + x2) / 2)} ${fixed((y1 + y2) / 2)} ${fixed(Math.abs(x2 - x1))} ${fixed(Math.abs(y2 - y1))}\n`;
}

/**
 * data.yaml in the Ultralytics layout. No `path`: tools then resolve images/ and labels/ next to this file.
 * The same images serve as train and val: split them yourself for a held-out measure.
 */
export function dataYaml(names: readonly string[], comment: string): string {
	return [...comment.split("\n").map((line) => `# ${line}`), "train: images", "val: images", `nc: ${names.length}`, `names: ${JSON.stringify(names)}`, ""].join(
		"\n",
	);
}

const BLOCK = 512;

function writeField(header: Buffer, offset: number, length: number, value: string) {
	header.write(value.slice(0, length), offset, length, "utf8");
}

const octal = (value: number, digits: number) => value.toString(8).padStart(digits, "0");

/** A ustar header for a regular file. Names are ASCII and under 100 bytes here (images/<uuid>.jpg). */
export function tarHeader(name: string, size: number, mtime: Date): Buffer {
	if (Buffer.byteLength(name) > 100) throw new RangeError(`Tar entry name too long: ${name}`);
	const header = Buffer.alloc(BLOCK, 0);
	writeField(header, 0, 100, name);
	writeField(header, 100, 8, "0000644\0");
	writeField(header, 108, 8, "0000000\0");
	writeField(header, 116, 8, "0000000\0");
	writeField(header, 124, 12, `${octal(size, 11)}\0`);
	writeField(header, 136, 12, `${octal(Math.floor(mtime.getTime() / 1000), 11)}\0`);
	writeField(header, 148, 8, "        ");
	writeField(header, 156, 1, "0");
	writeField(header, 257, 6, "ustar\0");
	writeField(header, 263, 2, "00");
	let sum = 0;
	for (const byte of header) sum += byte;
	writeField(header, 148, 8, `${octal(sum, 6)}\0 `);
	return header;
}

/** Zeros that bring an entry of `size` bytes to a whole block. */
export function tarPadding(size: number): Buffer {
	return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);
}

/** Two empty blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK, 0);

/** A small file as one chunk: header, content, padding. */
export function tarFile(name: string, content: string | Buffer, mtime: Date): Buffer {
	const body = typeof content === "string" ? Buffer.from(content) : content;
	return Buffer.concat([tarHeader(name, body.length, mtime), body, tarPadding(body.length)]);
}
