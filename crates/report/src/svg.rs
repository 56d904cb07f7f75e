//! Inline SVG charts for the EBR pack: KPI trend lines, the growth fan chart, the
//! stakeholder coverage heat map and score contribution bars.
//!
//! Written directly as SVG text rather than through a plotting crate: the pack must be
//! self-contained and byte-for-byte reproducible, and SVG `<text>` needs no font files
//! for layout. Values arrive as `Decimal`s and become `f64` only as drawing coordinates.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// Escapes text for SVG/XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// A linear y scale over "nice" round tick values covering `[lo, hi]`.
struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Scale {
    fn covering(values: impl Iterator<Item = f64>) -> Scale {
        let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if (hi - lo).abs() < f64::EPSILON {
            let pad = if hi.abs() > 0.0 { hi.abs() * 0.05 } else { 1.0 };
            lo -= pad;
            hi += pad;
        }
        let raw = (hi - lo) / 4.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * magnitude);
        let start = (lo / step).floor() * step;
        let end = (hi / step).ceil() * step;
        let mut ticks = Vec::new();
        let mut t = start;
        while t <= end + step * 1e-9 && ticks.len() < 12 {
            ticks.push(t);
            t += step;
        }
        Scale {
            lo: start,
            hi: end,
            ticks,
        }
    }

    fn y(&self, v: f64) -> f64 {
        let plot = HEIGHT - TOP - BOTTOM;
        TOP + plot * (1.0 - (v - self.lo) / (self.hi - self.lo))
    }
}

fn x_at(i: usize, n: usize) -> f64 {
    let plot = WIDTH - LEFT - RIGHT;
    if n <= 1 {
        LEFT + plot / 2.0
    } else {
        LEFT + plot * i as f64 / (n - 1) as f64
    }
}

/// Compact tick label: 1.2M, 350k, 0.985.
fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn open(out: &mut String, title: &str, height: f64) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
}

fn axes(out: &mut String, scale: &Scale, labels: &[String]) {
    for t in &scale.ticks {
        let y = scale.y(*t);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e6ea"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#555">{l}</text>"##,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            l = escape(&tick_label(*t)),
        );
    }
    // Label every k-th period so labels never overlap.
    let every = labels.len().div_ceil(12).max(1);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            out,
            r##"<text x="{x:.1}" y="{y}" font-size="11" text-anchor="middle" fill="#555">{l}</text>"##,
            x = x_at(i, labels.len()),
            y = HEIGHT - BOTTOM + 18.0,
            l = escape(label),
        );
    }
}

fn polyline(points: &[(f64, f64)], stroke: &str, width: f64, dash: Option<&str>) -> String {
    let pts: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let dash = dash
        .map(|d| format!(r#" stroke-dasharray="{d}""#))
        .unwrap_or_default();
    format!(
        r#"<polyline fill="none" stroke="{stroke}" stroke-width="{width}"{dash} points="{}"/>"#,
        pts.join(" ")
    )
}

/// A KPI trend: actual values per period (gaps allowed) against an optional target line.
pub fn trend_chart(
    title: &str,
    labels: &[String],
    actual: &[Option<Decimal>],
    target: Option<Decimal>,
) -> String {
    let values = actual.iter().flatten().map(|d| f(*d)).chain(target.map(f));
    let scale = Scale::covering(values);
    let mut out = String::new();
    open(&mut out, title, HEIGHT);
    axes(&mut out, &scale, labels);
    if let Some(t) = target {
        let y = scale.y(f(t));
        out.push_str(&polyline(
            &[(LEFT, y), (WIDTH - RIGHT, y)],
            "#2e7d32",
            1.5,
            Some("6 4"),
        ));
    }
    // Draw each run of consecutive observations as its own line.
    let mut run: Vec<(f64, f64)> = Vec::new();
    let n = actual.len();
    for (i, v) in actual.iter().enumerate() {
        match v {
            Some(d) => run.push((x_at(i, n), scale.y(f(*d)))),
            None if !run.is_empty() => {
                out.push_str(&polyline(&run, "#1565c0", 2.0, None));
                run.clear();
            }
            None => {}
        }
    }
    if !run.is_empty() {
        out.push_str(&polyline(&run, "#1565c0", 2.0, None));
    }
    for (i, v) in actual.iter().enumerate() {
        if let Some(d) = v {
            let _ = write!(
                out,
                r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#1565c0"/>"##,
                x_at(i, n),
                scale.y(f(*d))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The growth fan chart: P10–P90 band, P50 line, and the target (cumulative or per
/// period, as given) per period.
pub fn fan_chart(
    title: &str,
    labels: &[String],
    p10: &[Decimal],
    p50: &[Decimal],
    p90: &[Decimal],
    target: &[Option<Decimal>],
) -> String {
    let values = p10
        .iter()
        .chain(p50)
        .chain(p90)
        .map(|d| f(*d))
        .chain(target.iter().flatten().map(|d| f(*d)));
    let scale = Scale::covering(values.chain(std::iter::once(0.0)));
    let n = labels.len();
    let mut out = String::new();
    open(&mut out, title, HEIGHT);
    axes(&mut out, &scale, labels);
    let upper: Vec<String> = p90
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{:.1},{:.1}", x_at(i, n), scale.y(f(*d))))
        .collect();
    let lower: Vec<String> = p10
        .iter()
        .enumerate()
        .rev()
        .map(|(i, d)| format!("{:.1},{:.1}", x_at(i, n), scale.y(f(*d))))
        .collect();
    if !upper.is_empty() && !lower.is_empty() {
        let _ = write!(
            out,
            r##"<polygon fill="#90caf9" fill-opacity="0.5" stroke="none" points="{} {}"/>"##,
            upper.join(" "),
            lower.join(" ")
        );
    }
    let median: Vec<(f64, f64)> = p50
        .iter()
        .enumerate()
        .map(|(i, d)| (x_at(i, n), scale.y(f(*d))))
        .collect();
    out.push_str(&polyline(&median, "#0d47a1", 2.0, None));
    let target_pts: Vec<(f64, f64)> = target
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|d| (x_at(i, n), scale.y(f(d)))))
        .collect();
    if !target_pts.is_empty() {
        out.push_str(&polyline(&target_pts, "#c62828", 1.5, Some("6 4")));
    }
    out.push_str("</svg>");
    out
}

/// One cell of the coverage heat map: relationship strength 0 (no coverage) to 4
/// (trusted advisor), or `None` where the customer has nobody in that cell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeatCell {
    /// 0 = nobody of ours, 1 vendor, 2 credible source, 3 problem solver, 4 trusted advisor.
    pub level: Option<u8>,
    /// Short text shown in the cell (e.g. "2/3").
    pub text: String,
}

const HEAT: [&str; 5] = ["#ef9a9a", "#ffe082", "#fff59d", "#c5e1a5", "#81c784"];

/// A rows × columns heat map (regions × functions for stakeholder coverage).
pub fn heat_map(title: &str, rows: &[String], cols: &[String], cells: &[Vec<HeatCell>]) -> String {
    let cell_w = ((WIDTH - 120.0) / cols.len().max(1) as f64).min(110.0);
    let cell_h = 26.0;
    let height = 40.0 + cell_h * rows.len() as f64 + 10.0;
    let mut out = String::new();
    open(&mut out, title, height);
    for (j, c) in cols.iter().enumerate() {
        // A header wider than its column (about 6 px a character at 11 px) is broken over
        // two lines at the space nearest its middle, so the last column is not cut off.
        let x = 120.0 + cell_w * (j as f64 + 0.5);
        let fits = c.chars().count() as f64 * 6.0 <= cell_w;
        let split = (!fits)
            .then(|| {
                let mid = c.len() / 2;
                c.match_indices(' ')
                    .map(|(i, _)| i)
                    .min_by_key(|i| i.abs_diff(mid))
            })
            .flatten();
        match split {
            Some(i) => {
                let (a, b) = c.split_at(i);
                let _ = write!(
                    out,
                    r##"<text x="{x:.1}" y="18" font-size="10" text-anchor="middle" fill="#333"><tspan x="{x:.1}" dy="0">{}</tspan><tspan x="{x:.1}" dy="11">{}</tspan></text>"##,
                    escape(a),
                    escape(b.trim_start())
                );
            }
            None => {
                let size = if fits { 11 } else { 9 };
                let _ = write!(
                    out,
                    r##"<text x="{x:.1}" y="28" font-size="{size}" text-anchor="middle" fill="#333">{}</text>"##,
                    escape(c)
                );
            }
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let y = 40.0 + cell_h * i as f64;
        let _ = write!(
            out,
            r##"<text x="112" y="{:.1}" font-size="11" text-anchor="end" fill="#333">{}</text>"##,
            y + 17.0,
            escape(r)
        );
        for (j, cell) in cells
            .get(i)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .take(cols.len())
        {
            let fill = cell
                .level
                .map(|l| HEAT[usize::from(l.min(4))])
                .unwrap_or("#f5f5f5");
            let _ = write!(
                out,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}" stroke="#fff"/><text x="{tx:.1}" y="{ty:.1}" font-size="11" text-anchor="middle" fill="#222">{t}</text>"##,
                x = 120.0 + cell_w * j as f64,
                w = cell_w,
                h = cell_h,
                tx = 120.0 + cell_w * (j as f64 + 0.5),
                ty = y + 17.0,
                t = escape(&cell.text),
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The delivery roadmap as a Gantt chart: one row per project, a bar from its start to
/// its P50 go-live, a whisker on to the P90, and a red tick at the date committed to the
/// customer. Dates are day numbers from the earliest start (`start`, `p50`, `p90`,
/// `committed`), labelled with `ticks` (day number, text).
pub fn gantt(title: &str, rows: &[GanttRow], ticks: &[(i64, String)]) -> String {
    let row_h = 30.0;
    let height = 28.0 + row_h * rows.len() as f64 + 24.0;
    let first = 0_i64;
    let last = rows
        .iter()
        .flat_map(|r| [r.p90, r.committed])
        .chain(ticks.iter().map(|t| t.0))
        .max()
        .unwrap_or(1)
        .max(1);
    let (x0, x1) = (200.0, WIDTH - 24.0);
    let x = |d: i64| x0 + (x1 - x0) * (d - first) as f64 / (last - first) as f64;
    let mut out = String::new();
    open(&mut out, title, height);
    for (d, label) in ticks {
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="20" x2="{x:.1}" y2="{y2:.1}" stroke="#e3e7eb"/><text x="{x:.1}" y="14" font-size="10" text-anchor="middle" fill="#5b6775">{l}</text>"##,
            x = x(*d),
            y2 = height - 20.0,
            l = escape(label)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = 28.0 + row_h * i as f64;
        let colour = if r.late { "#c62828" } else { "#1565c0" };
        let _ = write!(
            out,
            r##"<text x="192" y="{ty:.1}" font-size="11" text-anchor="end" fill="#333">{l}</text><rect x="{bx:.1}" y="{y:.1}" width="{bw:.1}" height="14" fill="{colour}" opacity="0.85"/><line x1="{wx0:.1}" y1="{wy:.1}" x2="{wx1:.1}" y2="{wy:.1}" stroke="{colour}" stroke-width="2"/><line x1="{wx1:.1}" y1="{y:.1}" x2="{wx1:.1}" y2="{y2:.1}" stroke="{colour}" stroke-width="2"/><line x1="{cx:.1}" y1="{cy0:.1}" x2="{cx:.1}" y2="{cy1:.1}" stroke="#c62828" stroke-width="3"/><text x="{x0:.1}" y="{ly:.1}" font-size="10" fill="#5b6775">{note}</text>"##,
            ty = y + 11.0,
            l = escape(&r.label),
            bx = x(r.start),
            bw = (x(r.p50) - x(r.start)).max(1.0),
            wx0 = x(r.p50),
            wx1 = x(r.p90),
            wy = y + 7.0,
            y2 = y + 14.0,
            cx = x(r.committed),
            cy0 = y - 3.0,
            cy1 = y + 17.0,
            ly = y + 26.0,
            x0 = x0,
            note = escape(&r.note),
        );
    }
    let _ = write!(
        out,
        r##"<text x="200" y="{y:.1}" font-size="10" fill="#5b6775">bar: start → P50 go-live · whisker: P90 · red tick: date committed to the customer</text>"##,
        y = height - 6.0
    );
    out.push_str("</svg>");
    out
}

/// One project of [`gantt`], dates as day numbers from the chart's first day.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct GanttRow {
    /// The project's name.
    pub label: String,
    /// Its start.
    pub start: i64,
    /// Its P50 go-live.
    pub p50: i64,
    /// Its P90 go-live.
    pub p90: i64,
    /// The go-live committed to the customer.
    pub committed: i64,
    /// P90 after the committed date.
    pub late: bool,
    /// A line under the bar (`go-live Mar 2027 · 62 % on time`).
    pub note: String,
}

/// Horizontal bars, one per item (each measure's contribution to the overall score).
pub fn bar_chart(title: &str, items: &[(String, Decimal)]) -> String {
    let bar_h = 22.0;
    let height = 12.0 + bar_h * items.len() as f64 + 8.0;
    let max = items
        .iter()
        .map(|(_, v)| f(*v).abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let plot = WIDTH - 200.0 - 70.0;
    let mut out = String::new();
    open(&mut out, title, height);
    for (i, (label, v)) in items.iter().enumerate() {
        let y = 12.0 + bar_h * i as f64;
        let w = plot * f(*v).abs() / max;
        let _ = write!(
            out,
            r##"<text x="192" y="{ty:.1}" font-size="11" text-anchor="end" fill="#333">{l}</text><rect x="200" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="#1565c0"/><text x="{vx:.1}" y="{ty:.1}" font-size="11" fill="#333">{v}</text>"##,
            ty = y + 14.0,
            l = escape(label),
            h = bar_h - 6.0,
            vx = 206.0 + w,
            v = escape(&v.round_dp(4).normalize().to_string()),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn charts_are_single_svg_elements_with_escaped_text() {
        let labels: Vec<String> = (1..=12).map(|m| format!("M{m}")).collect();
        let actual: Vec<Option<Decimal>> = (0..12)
            .map(|i| {
                if i == 5 {
                    None
                } else {
                    Some(dec!(97.5) + Decimal::from(i) / dec!(10))
                }
            })
            .collect();
        let svg = trend_chart("OTIF <%> & more", &labels, &actual, Some(dec!(98.5)));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(svg.contains("OTIF &lt;%&gt; &amp; more"));
        // The gap splits the line into two runs, plus the dashed target line.
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert_eq!(svg.matches("<circle").count(), 11);
    }

    #[test]
    fn nice_scale_covers_values() {
        let s = Scale::covering([3.0, 97.0].into_iter());
        assert!(s.lo <= 3.0 && s.hi >= 97.0);
        assert!(s.ticks.len() >= 3 && s.ticks.len() <= 12);
        let flat = Scale::covering([5.0, 5.0].into_iter());
        assert!(flat.hi > flat.lo);
        let empty = Scale::covering(std::iter::empty());
        assert!(empty.hi > empty.lo);
    }

    #[test]
    fn fan_and_heat_and_bars() {
        let labels: Vec<String> = (1..=3).map(|m| m.to_string()).collect();
        let svg = fan_chart(
            "fan",
            &labels,
            &[dec!(1), dec!(2), dec!(3)],
            &[dec!(2), dec!(3), dec!(4)],
            &[dec!(3), dec!(4), dec!(5)],
            &[None, Some(dec!(3)), Some(dec!(4))],
        );
        assert!(svg.contains("<polygon") && svg.matches("<polyline").count() == 2);
        let cells = vec![vec![
            HeatCell {
                level: Some(4),
                text: "3/3".into(),
            },
            HeatCell {
                level: None,
                text: "–".into(),
            },
        ]];
        let heat = heat_map(
            "coverage",
            &["EMEA".into()],
            &["Logistics".into(), "Purchasing".into()],
            &cells,
        );
        assert_eq!(heat.matches("<rect").count(), 2);
        let bars = bar_chart(
            "contributions",
            &[("OTIF".into(), dec!(0.2979)), ("Damage".into(), dec!(0.125))],
        );
        assert_eq!(bars.matches("<rect").count(), 2);
        assert!(bars.contains("0.2979"));
    }
}
