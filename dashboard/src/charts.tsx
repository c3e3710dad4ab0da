/**
 * Small charts drawn as SVG at the width of their container (no chart library): stacked bars for alerts per camera
 * over time, and bars with a line for a camera's daily alerts and precision. To assistive technology each chart is
 * one image whose label sums it up; the numbers themselves go in a visually hidden table (DataTable) beside it.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import "./charts.css";

/** Okabe–Ito colours (told apart with most kinds of colour blindness), starting with the page's accent. */
const PALETTE = ["#1f5fbf", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8d6e00", "#7b4fb0"];
export const colorOf = (index: number) => PALETTE[index % PALETTE.length];
const VOLUME_COLOR = "#a9c1e8";
const PRECISION_COLOR = "#14213d";

const HEIGHT = 200;
const PAD = { top: 12, right: 10, bottom: 26, left: 36 };
/** Room for the percentages of a second axis on the right. */
const RIGHT_AXIS = 40;
/** Room one label under the bars needs, in pixels: closer ones are skipped. */
const LABEL_PX = 46;

export interface Series {
	name: string;
	values: number[];
	/** Its colour; else the palette's, in order. */
	color?: string;
}

/** The chart follows its container's width: a phone's 390 px as well as a wide screen. */
function useWidth() {
	const ref = useRef<HTMLDivElement>(null);
	const [width, setWidth] = useState(0);
	useEffect(() => {
		if (!ref.current) return;
		const observer = new ResizeObserver(([entry]) => setWidth(Math.floor(entry.contentRect.width)));
		observer.observe(ref.current);
		return () => observer.disconnect();
	}, []);
	return { ref, width };
}

/** A count axis from 0: about four steps of 1, 2 or 5 × 10ⁿ, the top at or above `max`. */
export function countTicks(max: number): number[] {
	const rough = Math.max(1, max / 4);
	const magnitude = 10 ** Math.floor(Math.log10(rough));
	const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
	const steps = Math.max(1, Math.ceil(max / step));
	return Array.from({ length: steps + 1 }, (_, i) => i * step);
}

/** Where the bars of `count` buckets go in a chart `width` wide, and the count axis's scale. */
function layout(width: number, count: number, top: number, right = PAD.right) {
	const plotWidth = Math.max(1, width - PAD.left - right);
	const plotHeight = HEIGHT - PAD.top - PAD.bottom;
	const slot = plotWidth / Math.max(1, count);
	const barWidth = Math.max(1, Math.min(slot * 0.72, 40));
	return {
		right: width - right,
		bottom: PAD.top + plotHeight,
		slot,
		barWidth,
		/** The left edge of bucket i's bar. */
		x: (i: number) => PAD.left + i * slot + (slot - barWidth) / 2,
		/** The middle of bucket i. */
		mid: (i: number) => PAD.left + i * slot + slot / 2,
		y: (value: number) => PAD.top + plotHeight * (1 - value / (top || 1)),
		/** Every nth label is shown, counted back from the last bucket (now) so that it always has one. */
		labelled: (i: number) => (count - 1 - i) % Math.max(1, Math.ceil(LABEL_PX / slot)) === 0,
	};
}

type Layout = ReturnType<typeof layout>;

/** Grid lines with the counts on the left, and the buckets' labels underneath. */
function CountAxis({ at, ticks, labels }: { at: Layout; ticks: number[]; labels: string[] }) {
	return (
		<g class="axis">
			{ticks.map((t) => (
				<g>
					<line x1={PAD.left} x2={at.right} y1={at.y(t)} y2={at.y(t)} class={t === 0 ? "baseline" : "grid"} />
					<text x={PAD.left - 6} y={at.y(t)} text-anchor="end" dominant-baseline="middle">
						{t}
					</text>
				</g>
			))}
			{labels.map((label, i) =>
				at.labelled(i) ? (
					<text x={at.mid(i)} y={HEIGHT - 8} text-anchor="middle">
						{label}
					</text>
				) : null,
			)}
		</g>
	);
}

/** Bars per bucket, one coloured part per series (alerts per camera per hour), with the count axis. */
export function StackedBars(props: { label: string; buckets: string[]; series: Series[]; unit: string }) {
	const { ref, width } = useWidth();
	const totals = props.buckets.map((_, i) => props.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
	const ticks = countTicks(Math.max(0, ...totals));
	const at = layout(width, props.buckets.length, ticks[ticks.length - 1]);
	return (
		<div class="chart" ref={ref}>
			<svg role="img" aria-label={props.label} width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`}>
				{width > 0 && (
					<>
						<CountAxis at={at} ticks={ticks} labels={props.buckets} />
						{props.buckets.map((bucket, i) => {
							let below = 0;
							return props.series.map((s, k) => {
								const value = s.values[i] ?? 0;
								if (!value) return null;
								const y = at.y(below + value);
								const height = at.y(below) - y;
								below += value;
								return (
									<rect x={at.x(i)} y={y} width={at.barWidth} height={height} fill={s.color ?? colorOf(k)}>
										<title>{`${s.name}, ${bucket}: ${value} ${props.unit}`}</title>
									</rect>
								);
							});
						})}
					</>
				)}
			</svg>
		</div>
	);
}

/** Bars for a count per bucket (left axis) and a line for a share of 0..1 (right axis, in %); null leaves a gap in the line. */
export function BarsAndLine(props: { label: string; buckets: string[]; bars: Series; line: { name: string; values: (number | null)[] } }) {
	const { ref, width } = useWidth();
	const ticks = countTicks(Math.max(0, ...props.bars.values));
	const at = layout(width, props.buckets.length, ticks[ticks.length - 1], RIGHT_AXIS);
	const shareY = (share: number) => at.y(share * ticks[ticks.length - 1]);
	// One path, lifted at every gap: days nobody judged an alert are not drawn as 0 %.
	let path = "";
	let drawing = false;
	props.line.values.forEach((share, i) => {
		if (share === null) return void (drawing = false);
		path += `${drawing ? "L" : "M"}${at.mid(i).toFixed(1)} ${shareY(share).toFixed(1)} `;
		drawing = true;
	});
	return (
		<div class="chart" ref={ref}>
			<svg role="img" aria-label={props.label} width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`}>
				{width > 0 && (
					<>
						<CountAxis at={at} ticks={ticks} labels={props.buckets} />
						<g class="axis">
							{[0, 0.5, 1].map((share) => (
								<text x={at.right + 6} y={shareY(share)} dominant-baseline="middle">
									{share * 100} %
								</text>
							))}
						</g>
						{props.bars.values.map((value, i) =>
							value ? (
								<rect x={at.x(i)} y={at.y(value)} width={at.barWidth} height={at.bottom - at.y(value)} fill={VOLUME_COLOR}>
									<title>{`${props.buckets[i]}: ${value} ${props.bars.name.toLowerCase()}`}</title>
								</rect>
							) : null,
						)}
						<path d={path} fill="none" stroke={PRECISION_COLOR} stroke-width="2" stroke-linejoin="round" />
						{props.line.values.map((share, i) =>
							share === null ? null : (
								<circle cx={at.mid(i)} cy={shareY(share)} r="3.5" fill={PRECISION_COLOR}>
									<title>{`${props.buckets[i]}: ${props.line.name.toLowerCase()} ${Math.round(share * 100)} %`}</title>
								</circle>
							),
						)}
					</>
				)}
			</svg>
		</div>
	);
}

/** What the colours and marks of a chart stand for. */
export function Legend({ items }: { items: { name: string; color: string; mark?: "bar" | "line"; note?: string }[] }) {
	return (
		<ul class="legend">
			{items.map((item) => (
				<li>
					<svg aria-hidden="true" width="14" height="14" viewBox="0 0 14 14">
						{item.mark === "line" ? (
							<>
								<line x1="0" y1="7" x2="14" y2="7" stroke={item.color} stroke-width="2" />
								<circle cx="7" cy="7" r="3" fill={item.color} />
							</>
						) : (
							<rect width="14" height="14" rx="2" fill={item.color} />
						)}
					</svg>
					{item.name}
					{item.note && <span class="muted"> {item.note}</span>}
				</li>
			))}
		</ul>
	);
}

export const BAR_LINE_COLORS = { bars: VOLUME_COLOR, line: PRECISION_COLOR };

/**
 * A chart's numbers for screen readers (and for tests): present to assistive technology, not drawn. Hidden by a
 * wrapper, since a table grows to fit its cells whatever width it is given, and would widen the page.
 */
export function DataTable(props: { caption: string; columns: string[]; rows: { head: string; cells: (string | number)[] }[] }) {
	return (
		<div class="visually-hidden">
			<table>
				<caption>{props.caption}</caption>
				<thead>
					<tr>
						{props.columns.map((c) => (
							<th scope="col">{c}</th>
						))}
					</tr>
				</thead>
				<tbody>
					{props.rows.map((row) => (
						<tr>
							<th scope="row">{row.head}</th>
							{row.cells.map((cell) => (
								<td>{cell}</td>
							))}
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}
