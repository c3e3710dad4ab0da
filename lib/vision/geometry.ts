/** Plane geometry in normalised frame coordinates (0..1, origin top-left). No broker in here. */
export type Point = [number, number];

/** Does segment p1-p2 properly or touchingly intersect segment p3-p4? */
export function segmentsIntersect(p1: Point, p2: Point, p3: Point, p4: Point): boolean {
	const d1 = cross(p3, p4, p1),
		d2 = cross(p3, p4, p2),
		d3 = cross(p1, p2, p3),
		d4 = cross(p1, p2, p4);
	if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
	return (
		(d1 === 0 && onSegment(p3, p4, p1)) || (d2 === 0 && onSegment(p3, p4, p2)) || (d3 === 0 && onSegment(p1, p2, p3)) || (d4 === 0 && onSegment(p1, p2, p4))
	);
}

function cross(a: Point, b: Point, c: Point): number {
	return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

function onSegment(a: Point, b: Point, p: Point): boolean {
	return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
}

/** Twice the signed area (shoelace); zero means the points are collinear. */
export function signedArea2(points: Point[]): number {
	let sum = 0;
	for (let i = 0; i < points.length; i++) {
		const [x1, y1] = points[i];
		const [x2, y2] = points[(i + 1) % points.length];
		sum += x1 * y2 - x2 * y1;
	}
	return sum;
}

/** Is the polygon simple, i.e. no two non-adjacent edges touch? */
export function isSimplePolygon(points: Point[]): boolean {
	const n = points.length;
	for (let i = 0; i < n; i++) {
		for (let j = i + 1; j < n; j++) {
			const adjacent = j === i + 1 || (i === 0 && j === n - 1);
			if (adjacent) continue;
			if (segmentsIntersect(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n])) return false;
		}
	}
	return true;
}

/** Ray casting: is `p` inside the polygon? Points on an edge count as inside. */
export function pointInPolygon(p: Point, polygon: Point[]): boolean {
	let inside = false;
	for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
		const [xi, yi] = polygon[i];
		const [xj, yj] = polygon[j];
		if (cross(polygon[j], polygon[i], p) === 0 && onSegment(polygon[j], polygon[i], p)) return true;
		if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
	}
	return inside;
}

export interface ZoneShapeProblem {
	field: string;
	message: string;
	type: string;
}

/** Checks a zone's points; returns the problems found (empty when the shape is valid). */
export function validateZoneShape(kind: "polygon" | "line", points: Point[]): ZoneShapeProblem[] {
	const problems: ZoneShapeProblem[] = [];
	points.forEach((p, i) => {
		if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => typeof v === "number" && Number.isFinite(v)))
			problems.push({ field: `points[${i}]`, message: "A point is [x, y] with two numbers.", type: "zonePoint" });
		else if (p.some((v) => v < 0 || v > 1))
			problems.push({
				field: `points[${i}]`,
				message: "Coordinates are normalised: x and y must be within 0..1 (inside the frame).",
				type: "zoneOutsideFrame",
			});
	});
	if (problems.length) return problems;
	if (kind === "line") {
		if (points.length < 2) problems.push({ field: "points", message: "A line needs at least 2 points.", type: "zoneTooFewPoints" });
		else if (points.some((p, i) => i > 0 && p[0] === points[i - 1][0] && p[1] === points[i - 1][1]))
			problems.push({ field: "points", message: "A line cannot repeat the same point twice in a row.", type: "zoneDegenerate" });
		return problems;
	}
	if (points.length < 3) return [{ field: "points", message: "A polygon needs at least 3 points.", type: "zoneTooFewPoints" }];
	// Crossing first: a symmetric bow tie also has zero signed area, but "self-intersecting" is the useful answer.
	if (!isSimplePolygon(points))
		return [{ field: "points", message: "The polygon's edges cross each other (self-intersecting).", type: "zoneSelfIntersecting" }];
	if (Math.abs(signedArea2(points)) < 1e-9)
		return [{ field: "points", message: "The polygon has no area (its points are collinear).", type: "zoneDegenerate" }];
	return problems;
}
