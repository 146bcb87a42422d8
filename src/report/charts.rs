//! Charts, drawn with plotters into PNG (self-contained: the font is embedded) and SVG.
//!
//! A chart is data ([`Chart`] of [`Panel`]s); [`render`] draws it on both backends. Nothing here
//! computes statistics: callers hand over the points.

use std::io::Cursor;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, SegmentValue, ValueFormatter};
use plotters::prelude::*;

/// Distinguishable colours (Okabe-Ito, colour-blind safe), then plotters' palette.
const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

/// The colour of series `i`: the eight above, then plotters' 99-colour palette.
pub fn colour(i: usize) -> RGBColor {
    match COLOURS.get(i) {
        Some(c) => *c,
        None => {
            let (r, g, b) = Palette99::pick(i - COLOURS.len()).rgb();
            RGBColor(r, g, b)
        }
    }
}

/// Most series a legend lists; a panel with more shows none (its lines are named in the CSV).
pub const MAX_LEGEND: usize = 12;

/// A named line of points.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Draw a dot at every point too.
    pub dots: bool,
    /// A shaded band around the line: (x, low, high) points, e.g. a 95 % confidence interval.
    pub band: Vec<(f64, f64, f64)>,
    /// A reference line (e.g. goodput = offered): grey and dashed, not a data colour.
    pub reference: bool,
}

/// The colour of reference series.
const GREY: RGBColor = RGBColor(150, 150, 150);

/// The colour of series `i` of `all`: reference series are grey and do not use up a colour.
fn series_colour(all: &[Series], i: usize) -> RGBColor {
    if all[i].reference {
        GREY
    } else {
        colour(all[..i].iter().filter(|s| !s.reference).count())
    }
}

/// A horizontal reference line (an SLO, a cap).
#[derive(Clone, Debug)]
pub struct HLine {
    pub y: f64,
    pub label: String,
}

/// A highlighted point on series `series` (e.g. a tier's knee).
#[derive(Clone, Debug)]
pub struct Marker {
    pub series: usize,
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Debug, Default)]
pub struct LinePanel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    pub hlines: Vec<HLine>,
    pub markers: Vec<Marker>,
    /// Fixed y range; otherwise fitted to the data (from zero on a linear axis). A reference
    /// line far above the data is not drawn (its legend entry says so) rather than squash it.
    pub y_range: Option<(f64, f64)>,
    /// Fixed x range (so that panels side by side share it); otherwise from the data.
    pub x_range: Option<(f64, f64)>,
    /// Show the legend strip even for a single line (so that stacked panels align).
    pub keep_legend: bool,
    /// Vertical marks at given x values with a short label (e.g. a tier change).
    pub vlines: Vec<VLine>,
}

/// A vertical mark: an x value and its label, drawn at the top of the plot.
#[derive(Clone, Debug, PartialEq)]
pub struct VLine {
    pub x: f64,
    pub label: String,
}

/// Width of the strip at the right of a panel that holds its legend, so that a legend never
/// covers a curve.
const LEGEND_W: u32 = 190;

/// Bars by category, optionally with a 95 % interval whisker each.
#[derive(Clone, Debug, Default)]
pub struct BarPanel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub values: Vec<f64>,
    pub intervals: Vec<Option<(f64, f64)>>,
    /// A short text drawn in place of (or above) a category's bar, e.g. why it has no value.
    pub notes: Vec<Option<String>>,
    pub hlines: Vec<HLine>,
    /// When not empty, each bar is drawn as a stack of these parts (name, value per
    /// category), bottom first, with a legend; `values` are then the stacks' totals.
    pub stacks: Vec<(String, Vec<f64>)>,
}

#[derive(Clone, Debug)]
pub enum Panel {
    Line(LinePanel),
    Bar(BarPanel),
}

/// A figure: a title and panels laid out in `rows` × `cols`.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub panels: Vec<Panel>,
    pub rows: usize,
    pub cols: usize,
    pub width: u32,
    pub height: u32,
}

/// A chart drawn both ways.
pub struct Rendered {
    pub png: Vec<u8>,
    pub svg: String,
}

fn register_fonts() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        use plotters::style::register_font;
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "the embedded DejaVu Sans font could not be loaded".to_string())?;
        register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| "the embedded DejaVu Sans Bold font could not be loaded".to_string())?;
        Ok(())
    })
    .clone()
}

/// Draws `chart` as PNG bytes and as an SVG document.
pub fn render(chart: &Chart) -> Result<Rendered, String> {
    register_fonts()?;
    let (w, h) = (chart.width, chart.height);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(&root, chart)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(Cursor::new(&mut png), w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&buf).map_err(|e| e.to_string())?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(&root, chart)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(Rendered { png, svg })
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let body = root
        .titled(
            &chart.title,
            ("sans-serif", 22).into_font().style(FontStyle::Bold),
        )
        .map_err(err)?;
    let areas = body.split_evenly((chart.rows.max(1), chart.cols.max(1)));
    for (area, panel) in areas.iter().zip(&chart.panels) {
        match panel {
            Panel::Line(p) => draw_line_panel(area, p)?,
            Panel::Bar(p) => draw_bar_panel(area, p)?,
        }
    }
    Ok(())
}

/// Data range with a margin; on a log axis only positive values count.
fn range(values: impl Iterator<Item = f64>, log: bool, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        return (lo / 1.3, hi * 1.3);
    }
    if from_zero && lo >= 0.0 {
        lo = 0.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    (
        if from_zero && lo == 0.0 {
            0.0
        } else {
            lo - pad
        },
        hi + pad,
    )
}

fn draw_line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &LinePanel,
) -> Result<(), String> {
    let xs = p.series.iter().flat_map(|s| s.points.iter().map(|pt| pt.0));
    let (x0, x1) = p.x_range.unwrap_or_else(|| range(xs, p.log_x, false));
    let data_ys = || p.series.iter().flat_map(|s| s.points.iter().map(|pt| pt.1));
    let (_, data_hi) = range(data_ys(), p.log_y, true);
    // Reference lines join the range unless they are far above the data.
    let shown: Vec<bool> = p
        .hlines
        .iter()
        .map(|h| p.y_range.is_some() || h.y <= 2.0 * data_hi || data_ys().next().is_none())
        .collect();
    let (y0, y1) = p.y_range.unwrap_or_else(|| {
        let ys = data_ys().chain(
            p.hlines
                .iter()
                .zip(&shown)
                .filter(|(_, s)| **s)
                .map(|(h, _)| h.y),
        );
        range(ys, p.log_y, true)
    });
    let (plot, legend) = split_legend(
        area,
        p.series.len().max(2 * usize::from(p.keep_legend)),
        p.hlines.len(),
    );
    if let Some(legend) = legend {
        let mut entries: Vec<(RGBColor, String, bool)> = p
            .hlines
            .iter()
            .zip(&shown)
            .map(|(h, s)| {
                let label = if *s {
                    h.label.clone()
                } else {
                    format!("{} (off the scale)", h.label)
                };
                (REFERENCE, label, true)
            })
            .collect();
        entries.extend(
            p.series
                .iter()
                .enumerate()
                .map(|(i, s)| (series_colour(&p.series, i), s.name.clone(), s.reference)),
        );
        draw_legend(&legend, &entries)?;
    }
    let xk = p.log_x.then(|| log_key_points(x0, x1));
    let yk = p.log_y.then(|| log_key_points(y0, y1));
    match (xk, yk) {
        (None, None) => line_panel_on(&plot, p, &shown, x0..x1, y0..y1),
        (Some(xk), None) => line_panel_on(
            &plot,
            p,
            &shown,
            (x0..x1).log_scale().with_key_points(xk),
            y0..y1,
        ),
        (None, Some(yk)) => line_panel_on(
            &plot,
            p,
            &shown,
            x0..x1,
            (y0..y1).log_scale().with_key_points(yk),
        ),
        (Some(xk), Some(yk)) => line_panel_on(
            &plot,
            p,
            &shown,
            (x0..x1).log_scale().with_key_points(xk),
            (y0..y1).log_scale().with_key_points(yk),
        ),
    }
}

/// The colour of reference lines (caps, SLOs).
const REFERENCE: RGBColor = RGBColor(200, 0, 0);

/// Splits off the legend strip at the right when the panel has a legend to show: more than
/// one entry, or any reference line, and not more series than [`MAX_LEGEND`].
fn split_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: usize,
    hlines: usize,
) -> (DrawingArea<DB, Shift>, Option<DrawingArea<DB, Shift>>) {
    let wanted = series <= MAX_LEGEND && (series + hlines > 1 || hlines > 0);
    let width = area.dim_in_pixel().0;
    if !wanted || width < 3 * LEGEND_W {
        return (area.clone(), None);
    }
    let (plot, legend) = area.split_horizontally(width - LEGEND_W);
    (plot, Some(legend))
}

/// Draws legend entries (colour, label, dashed) top-down in a strip; long labels wrap.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(RGBColor, String, bool)],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let font = ("sans-serif", 13).into_font();
    let max_chars = 21;
    let mut y = 44;
    for (c, label, dashed) in entries {
        let style = c.stroke_width(3);
        if *dashed {
            area.draw(&PathElement::new(vec![(4, y + 7), (12, y + 7)], style))
                .map_err(err)?;
            area.draw(&PathElement::new(vec![(17, y + 7), (25, y + 7)], style))
                .map_err(err)?;
        } else {
            area.draw(&PathElement::new(vec![(4, y + 7), (25, y + 7)], style))
                .map_err(err)?;
        }
        for line in wrap(label, max_chars) {
            area.draw(&Text::new(line, (32, y), font.clone()))
                .map_err(err)?;
            y += 16;
        }
        y += 6;
    }
    Ok(())
}

/// Splits `text` into lines of at most `width` characters at spaces (a longer word stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Tick positions on a log axis: 1, 2 and 5 times each power of ten within the range, or only
/// the powers of ten when the range spans many decades. One label per position (plotters'
/// own log ticks repeated one, and its minor grid formed a dark band).
fn log_key_points(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (
        lo.max(f64::MIN_POSITIVE).log10().floor() as i32,
        hi.log10().ceil() as i32,
    );
    let within = |steps: &[f64]| -> Vec<f64> {
        let mut out = Vec::new();
        for e in a..=b {
            for m in steps {
                let v = m * 10f64.powi(e);
                if v >= lo && v <= hi {
                    out.push(v);
                }
            }
        }
        out
    };
    if b - a > 6 {
        return within(&[1.0]);
    }
    let coarse = within(&[1.0, 2.0, 5.0]);
    if coarse.len() >= 3 {
        return coarse;
    }
    // A narrow range (less than a decade): every whole multiple of the power of ten.
    within(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
}

/// Compact tick labels: 0.001, 0.5, 12, 1500, 2.5M.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn line_panel_on<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    p: &LinePanel,
    shown: &[bool],
    x: X,
    y: Y,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let xr = chart.x_range();
    let yr = chart.y_range();
    for v in p.vlines.iter().filter(|v| xr.contains(&v.x)) {
        let mark = RGBColor(120, 60, 160);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(v.x, yr.start), (v.x, yr.end)],
                4,
                4,
                ShapeStyle::from(&mark).stroke_width(1),
            ))
            .map_err(err)?;
        let font = ("sans-serif", 12).into_font().color(&mark);
        chart
            .draw_series([
                EmptyElement::at((v.x, yr.end)) + Text::new(v.label.clone(), (4, 2), font)
            ])
            .map_err(err)?;
    }
    for (h, _) in p.hlines.iter().zip(shown).filter(|(_, s)| **s) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(xr.start, h.y), (xr.end, h.y)],
                8,
                5,
                ShapeStyle::from(&REFERENCE).stroke_width(2),
            ))
            .map_err(err)?;
    }
    for (i, s) in p.series.iter().enumerate() {
        let c = series_colour(&p.series, i);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(a, b)| {
                a.is_finite() && b.is_finite() && (!p.log_x || *a > 0.0) && (!p.log_y || *b > 0.0)
            })
            .collect();
        let band: Vec<(f64, f64)> = s
            .band
            .iter()
            .map(|b| (b.0, b.1))
            .chain(s.band.iter().rev().map(|b| (b.0, b.2)))
            .filter(|(a, b)| a.is_finite() && b.is_finite() && (!p.log_y || *b > 0.0))
            .collect();
        if band.len() >= 3 {
            chart
                .draw_series([Polygon::new(band, c.mix(0.18).filled())])
                .map_err(err)?;
        }
        if s.reference {
            chart
                .draw_series(DashedLineSeries::new(pts, 6, 6, c.stroke_width(2)))
                .map_err(err)?;
            continue;
        }
        // A dense, jagged line drawn 2 px wide gets miter spikes at its sharp turns.
        let width = if pts.len() > 400 { 1 } else { 2 };
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(width)))
            .map_err(err)?;
        if s.dots {
            chart
                .draw_series(pts.iter().map(|pt| Circle::new(*pt, 3, c.filled())))
                .map_err(err)?;
        }
    }
    for m in &p.markers {
        let c = series_colour(&p.series, m.series.min(p.series.len().saturating_sub(1)));
        chart
            .draw_series([
                Circle::new((m.x, m.y), 8, c.stroke_width(3)),
                Circle::new((m.x, m.y), 3, c.filled()),
            ])
            .map_err(err)?;
    }
    Ok(())
}

fn draw_bar_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &BarPanel,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let n = p.categories.len().max(1);
    let tops = p
        .values
        .iter()
        .copied()
        .chain(p.intervals.iter().flatten().map(|iv| iv.1))
        .chain(p.hlines.iter().map(|h| h.y));
    let (_, mut y1) = range(tops, false, true);
    if !p.hlines.is_empty() || p.notes.iter().any(Option::is_some) {
        // Room above for the labels of reference lines and notes.
        y1 *= 1.15;
    }
    let (plot, legend) = split_legend(area, p.stacks.len(), p.hlines.len());
    if let Some(legend) = &legend {
        let entries: Vec<(RGBColor, String, bool)> = p
            .stacks
            .iter()
            .enumerate()
            .map(|(k, (name, _))| (colour(k), name.clone(), false))
            .chain(p.hlines.iter().map(|h| (REFERENCE, h.label.clone(), true)))
            .collect();
        draw_legend(legend, &entries)?;
    }
    let area = &plot;
    // Labels wider than their category's share of the axis are turned to read upwards.
    let per_cat = (area.dim_in_pixel().0 as usize).saturating_sub(100) / n;
    let longest = p
        .categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    let upright = longest * 7 + 6 > per_cat;
    let label_area = if upright {
        (longest as u32 * 7 + 20).min(160)
    } else {
        44
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(label_area)
        .y_label_area_size(64)
        .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0.0..y1)
        .map_err(err)?;
    let cats = p.categories.clone();
    let x_label_style = if upright {
        ("sans-serif", 13)
            .into_font()
            .transform(FontTransform::Rotate90)
    } else {
        ("sans-serif", 13).into_font()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .x_labels(n)
        .x_label_formatter(&|v| match v {
            // Upright labels are drawn below, one per category.
            _ if upright => String::new(),
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                cats.get(*i as usize).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .label_style(("sans-serif", 13))
        .x_label_style(x_label_style.clone())
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    if upright {
        let (bx, by) = area.get_base_pixel();
        for (i, c) in p.categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(SegmentValue::CenterOf(i as i32), 0.0));
            area.draw(&Text::new(
                c.clone(),
                (x - bx + 7, y - by + 8),
                x_label_style.clone(),
            ))
            .map_err(err)?;
        }
    }
    let mut parts: Vec<(usize, usize, f64, f64)> = Vec::new();
    if p.stacks.is_empty() {
        parts.extend(p.values.iter().enumerate().map(|(i, v)| (i, 0, 0.0, *v)));
    } else {
        for i in 0..p.categories.len() {
            let mut base = 0.0;
            for (k, (_, vals)) in p.stacks.iter().enumerate() {
                let v = vals.get(i).copied().unwrap_or(0.0);
                if v > 0.0 {
                    parts.push((i, k, base, base + v));
                    base += v;
                }
            }
        }
    }
    chart
        .draw_series(parts.iter().map(|&(i, k, lo, hi)| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i as i32), lo),
                    (SegmentValue::Exact(i as i32 + 1), hi),
                ],
                colour(k).mix(0.8).filled(),
            );
            bar.set_margin(0, 0, 12, 12);
            bar
        }))
        .map_err(err)?;
    chart
        .draw_series(p.intervals.iter().enumerate().filter_map(|(i, iv)| {
            iv.map(|(lo, hi)| {
                PathElement::new(
                    vec![
                        (SegmentValue::CenterOf(i as i32), lo),
                        (SegmentValue::CenterOf(i as i32), hi),
                    ],
                    BLACK.stroke_width(2),
                )
            })
        }))
        .map_err(err)?;
    for h in &p.hlines {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(SegmentValue::Exact(0), h.y), (SegmentValue::Last, h.y)],
                8,
                5,
                ShapeStyle::from(&REFERENCE).stroke_width(2),
            ))
            .map_err(err)?;
        if legend.is_none() {
            // No room for a legend strip: the label goes just above the line.
            let font = ("sans-serif", 13).into_font().color(&REFERENCE);
            chart
                .draw_series([EmptyElement::at((SegmentValue::Exact(0), h.y))
                    + Text::new(h.label.clone(), (6, -18), font)])
                .map_err(err)?;
        }
    }
    let font = ("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90));
    for (i, note) in p.notes.iter().enumerate() {
        if let Some(note) = note
            && per_cat < 90
        {
            // No room across: the note reads upwards from the axis.
            let v = p.values.get(i).copied().unwrap_or(0.0);
            let up = ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate270)
                .color(&RGBColor(90, 90, 90));
            chart
                .draw_series([EmptyElement::at((SegmentValue::CenterOf(i as i32), v))
                    + Text::new(note.clone(), (-6, -6), up)])
                .map_err(err)?;
        } else if let Some(note) = note {
            let v = p.values.get(i).copied().unwrap_or(0.0);
            let lines = wrap(note, 11);
            let n = lines.len() as i32;
            for (k, line) in lines.into_iter().enumerate() {
                chart
                    .draw_series([EmptyElement::at((SegmentValue::CenterOf(i as i32), v))
                        + Text::new(line, (-36, -8 - 16 * (n - k as i32)), font.clone())])
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Chart {
        Chart {
            title: "test".into(),
            panels: vec![
                Panel::Line(LinePanel {
                    title: "lines".into(),
                    x_label: "x (s)".into(),
                    y_label: "y".into(),
                    log_x: true,
                    series: vec![Series {
                        name: "a".into(),
                        points: vec![(0.1, 0.0), (1.0, 0.5), (10.0, 1.0)],
                        dots: true,
                        ..Series::default()
                    }],
                    hlines: vec![HLine {
                        y: 0.9,
                        label: "slo".into(),
                    }],
                    markers: vec![Marker {
                        series: 0,
                        x: 1.0,
                        y: 0.5,
                    }],
                    ..LinePanel::default()
                }),
                Panel::Bar(BarPanel {
                    title: "bars".into(),
                    categories: vec!["0".into(), "1".into()],
                    values: vec![3.0, 5.0],
                    intervals: vec![Some((2.5, 3.5)), None],
                    ..BarPanel::default()
                }),
            ],
            rows: 1,
            cols: 2,
            width: 600,
            height: 300,
        }
    }

    #[test]
    fn renders_a_valid_png_and_svg_with_text() {
        let r = render(&sample()).unwrap();
        assert_eq!(&r.png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(r.svg.starts_with("<svg"));
        assert!(r.svg.contains("lines") && r.svg.contains("bars") && r.svg.contains("x (s)"));
        // Decode the PNG: it must not be a blank canvas.
        let dec = png::Decoder::new(Cursor::new(&r.png));
        let mut reader = dec.read_info().unwrap();
        let mut px = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut px).unwrap();
        let non_white = px.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        assert!(non_white > 2_000, "only {non_white} drawn pixels");
    }

    #[test]
    fn a_log_axis_labels_each_tick_once_without_a_dense_minor_grid() {
        // Issue 6, bug 5: the latency CDF drew "10" twice, and its minor grid between 1 and
        // 10 s formed a dark band.
        assert_eq!(log_key_points(0.7, 40.0), vec![1.0, 2.0, 5.0, 10.0, 20.0]);
        assert_eq!(
            log_key_points(1e-3, 1e6).len(),
            10,
            "powers of ten only over 9 decades"
        );
        assert_eq!(
            log_key_points(6.9, 13.9),
            vec![7.0, 8.0, 9.0, 10.0],
            "a narrow range"
        );
        let chart = Chart {
            title: "log".into(),
            panels: vec![Panel::Line(LinePanel {
                log_x: true,
                series: vec![Series {
                    name: "cdf".into(),
                    points: (0..200)
                        .map(|i| (0.7 * 1.02f64.powi(i), i as f64 / 400.0))
                        .collect(),
                    ..Series::default()
                }],
                // Below 1, so that no y label reads like an x tick.
                y_range: Some((0.0, 0.5)),
                ..LinePanel::default()
            })],
            rows: 1,
            cols: 1,
            width: 900,
            height: 400,
        };
        let svg = render(&chart).unwrap().svg;
        for label in ["1", "2", "5", "10", "20"] {
            let n = svg.matches(&format!(">\n{label}\n</text>")).count();
            assert_eq!(n, 1, "tick {label} drawn {n} times");
        }
        // Vertical grid lines: one per tick, not dozens.
        let vertical = svg
            .lines()
            .filter(|l| l.starts_with("<line"))
            .filter(|l| {
                let attr = |name: &str| l.split(&format!(" {name}=\"")).nth(1)?.split('"').next();
                attr("x1").is_some() && attr("x1") == attr("x2")
            })
            .count();
        assert!(
            vertical <= 6,
            "{vertical} vertical grid lines: a dense minor grid"
        );
    }

    #[test]
    fn ticks_are_compact() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(12.5), "12.5");
        assert_eq!(tick(1500.0), "1500");
        assert_eq!(tick(25000.0), "25k");
        assert_eq!(tick(2_500_000.0), "2.5M");
    }
}
