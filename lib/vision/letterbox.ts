/**
 * How a source frame becomes the model's input frame, and how boxes find their way back.
 * Ultralytics models expect a letterbox (aspect kept, centred, grey 114 bars); CenterNet a plain resize.
 */
import type { Box, Size } from "./types";

export interface ModelInput extends Size {
	/** true: keep the aspect ratio and pad; false: stretch to the input size. */
	letterbox: boolean;
}

export interface Letterbox {
	source: Size;
	input: Size;
	/** Size of the picture inside the input frame (the input size when stretched). */
	content: Size;
	/** Grey bars around the picture, in input pixels. */
	pad: { left: number; top: number; right: number; bottom: number };
}

/** Ultralytics pads with grey 114 (0x72): the value its models were trained to ignore. */
export const PAD_GREY = 114;

export function letterbox(source: Size, input: ModelInput): Letterbox {
	assertSize(source, "source");
	assertSize(input, "input");
	const inputSize = { width: input.width, height: input.height };
	if (!input.letterbox) return { source, input: inputSize, content: inputSize, pad: { left: 0, top: 0, right: 0, bottom: 0 } };
	const gain = Math.min(input.width / source.width, input.height / source.height);
	// Python's round(), as in Ultralytics' LetterBox, so our frames match its own preprocessing pixel for pixel.
	const width = Math.max(1, Math.min(input.width, pyRound(source.width * gain)));
	const height = Math.max(1, Math.min(input.height, pyRound(source.height * gain)));
	const left = Math.max(0, pyRound((input.width - width) / 2 - 0.1));
	const top = Math.max(0, pyRound((input.height - height) / 2 - 0.1));
	return {
		source,
		input: inputSize,
		content: { width, height },
		pad: { left, top, right: input.width - width - left, bottom: input.height - height - top },
	};
}

/**
 * The ffmpeg `-vf` chain that turns a source frame into exactly this input frame (use with `-pix_fmt rgb24`).
 * Converting to rgb24 before padding keeps odd offsets exact: yuv420p would round them to even pixels.
 */
export function ffmpegFilter(lb: Letterbox): string {
	const scale = `scale=${lb.content.width}:${lb.content.height}:flags=bilinear,format=rgb24`;
	const padded = lb.content.width !== lb.input.width || lb.content.height !== lb.input.height;
	if (!padded) return scale;
	const grey = PAD_GREY.toString(16).padStart(2, "0").repeat(3);
	return `${scale},pad=${lb.input.width}:${lb.input.height}:${lb.pad.left}:${lb.pad.top}:color=0x${grey}`;
}

/** Maps a box in input pixels to the source frame, normalised to 0..1 and clamped (boxes may spill into the bars). */
export function toSourceBox(box: Box, lb: Letterbox): Box {
	const x = (v: number): number => clamp01((v - lb.pad.left) / lb.content.width);
	const y = (v: number): number => clamp01((v - lb.pad.top) / lb.content.height);
	return [x(box[0]), y(box[1]), x(box[2]), y(box[3])];
}

function clamp01(v: number): number {
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Round half to even, like Python 3's round(). */
function pyRound(v: number): number {
	const r = Math.round(v);
	return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function assertSize(size: Size, what: string): void {
	if (!Number.isInteger(size.width) || !Number.isInteger(size.height) || size.width < 1 || size.height < 1)
		throw new RangeError(`${what} size must be positive integers, got ${size.width}x${size.height}`);
}
