import { isSimplePolygon, pointInPolygon, segmentsIntersect, validateZoneShape, type Point } from "../../lib/vision/geometry";

const square: Point[] = [
	[0.2, 0.2],
	[0.8, 0.2],
	[0.8, 0.8],
	[0.2, 0.8],
];

describe("zone geometry", () => {
	it("finds points inside, outside and on the edge of a polygon", () => {
		expect(pointInPolygon([0.5, 0.5], square)).toBe(true);
		expect(pointInPolygon([0.1, 0.5], square)).toBe(false);
		expect(pointInPolygon([0.2, 0.5], square)).toBe(true);
		const concave: Point[] = [
			[0, 0],
			[1, 0],
			[1, 1],
			[0.5, 0.4],
			[0, 1],
		];
		expect(pointInPolygon([0.5, 0.8], concave)).toBe(false);
		expect(pointInPolygon([0.5, 0.2], concave)).toBe(true);
	});

	it("detects crossing and touching segments", () => {
		expect(segmentsIntersect([0, 0], [1, 1], [0, 1], [1, 0])).toBe(true);
		expect(segmentsIntersect([0, 0], [1, 0], [0, 1], [1, 1])).toBe(false);
		expect(segmentsIntersect([0, 0], [1, 0], [1, 0], [1, 1])).toBe(true);
	});

	it("tells simple polygons from bow ties", () => {
		expect(isSimplePolygon(square)).toBe(true);
		expect(
			isSimplePolygon([
				[0, 0],
				[1, 1],
				[1, 0],
				[0, 1],
			]),
		).toBe(false);
	});

	it("validates zone shapes with a reason per problem", () => {
		expect(validateZoneShape("polygon", square)).toEqual([]);
		expect(
			validateZoneShape("line", [
				[0, 0.5],
				[1, 0.5],
			]),
		).toEqual([]);
		expect(
			validateZoneShape("polygon", [
				[0, 0],
				[1, 1],
			])[0].type,
		).toBe("zoneTooFewPoints");
		expect(
			validateZoneShape("polygon", [
				[0, 0],
				[1.2, 0],
				[0, 1],
			])[0],
		).toMatchObject({ field: "points[1]", type: "zoneOutsideFrame" });
		expect(
			validateZoneShape("polygon", [
				[0, 0],
				[1, 1],
				[1, 0],
				[0, 1],
			])[0].type,
		).toBe("zoneSelfIntersecting");
		expect(
			validateZoneShape("polygon", [
				[0, 0],
				[0.5, 0.5],
				[1, 1],
			])[0].type,
		).toBe("zoneDegenerate");
		expect(
			validateZoneShape("line", [
				[0.3, 0.3],
				[0.3, 0.3],
			])[0].type,
		).toBe("zoneDegenerate");
	});
});
