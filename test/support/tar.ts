/** Reads a tar archive (ustar, regular files only) into name -> content, checking each header's checksum. */
export function readTar(archive: Buffer): Map<string, Buffer> {
	const files = new Map<string, Buffer>();
	const text = (b: Buffer) => b.toString("latin1").replace(/\0.*$/s, "").trim();
	let offset = 0;
	while (offset + 512 <= archive.length) {
		const header = archive.subarray(offset, offset + 512);
		if (header.every((b) => b === 0)) break;
		let sum = 0;
		for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
		if (parseInt(text(header.subarray(148, 156)), 8) !== sum) throw new Error(`Bad tar header checksum at ${offset}`);
		const name = text(header.subarray(0, 100));
		const size = parseInt(text(header.subarray(124, 136)), 8);
		offset += 512;
		files.set(name, archive.subarray(offset, offset + size));
		offset += Math.ceil(size / 512) * 512;
	}
	return files;
}
