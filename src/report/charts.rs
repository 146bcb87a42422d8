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
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Draw a dot at every point too.
    pub dots: bool,
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
    /// Fixed y range; otherwise from the data (from zero on a linear axis), with headroom
    /// above for the legend.
    pub y_range: Option<(f64, f64)>,
    /// Where the legend goes (upper left by default, with headroom above the data).
    pub legend: Legend,
}

/// Corner of a panel that holds its legend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Legend {
    #[default]
    UpperLeft,
    LowerLeft,
    LowerRight,
}

/// Bars by category, optionally with a 95 % interval whisker each.
#[derive(Clone, Debug, Default)]
pub struct BarPanel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub values: Vec<f64>,
    pub intervals: Vec<Option<(f64, f64)>>,
    pub hlines: Vec<HLine>,
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
    let (x0, x1) = range(xs, p.log_x, false);
    let (y0, y1) = p.y_range.unwrap_or_else(|| {
        let ys = p
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|pt| pt.1))
            .chain(p.hlines.iter().map(|h| h.y));
        let (lo, hi) = range(ys, p.log_y, true);
        // Headroom so the legend (upper left) does not cover the data: about one line of
        // legend per 8 % of the plot's height.
        let entries = if p.series.len() <= MAX_LEGEND {
            (p.series.len() + p.hlines.len()) as f64
        } else {
            0.0
        };
        let room = (0.12 + 0.08 * entries).min(0.9);
        match (p.legend, p.log_y) {
            (Legend::UpperLeft, false) => (lo, hi + (hi - lo) * room),
            (Legend::UpperLeft, true) => (lo, hi * (hi / lo).powf(room)),
            _ => (lo, hi),
        }
    });
    match (p.log_x, p.log_y) {
        (false, false) => line_panel_on(area, p, x0..x1, y0..y1),
        (true, false) => line_panel_on(area, p, (x0..x1).log_scale(), y0..y1),
        (false, true) => line_panel_on(area, p, x0..x1, (y0..y1).log_scale()),
        (true, true) => line_panel_on(area, p, (x0..x1).log_scale(), (y0..y1).log_scale()),
    }
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
    let (xr, _) = (chart.x_range(), chart.y_range());
    for (i, h) in p.hlines.iter().enumerate() {
        let style = ShapeStyle::from(&RGBColor(200, 0, 0)).stroke_width(2);
        let label = h.label.clone();
        chart
            .draw_series(DashedLineSeries::new(
                vec![(xr.start, h.y), (xr.end, h.y)],
                8,
                5,
                style,
            ))
            .map_err(err)?
            .label(label)
            .legend(move |(lx, ly)| {
                PathElement::new(
                    vec![(lx, ly), (lx + 20, ly)],
                    ShapeStyle::from(&RGBColor(200, 0, 0)).stroke_width(2),
                )
            });
        let _ = i;
    }
    for (i, s) in p.series.iter().enumerate() {
        let c = colour(i);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(a, b)| {
                a.is_finite() && b.is_finite() && (!p.log_x || *a > 0.0) && (!p.log_y || *b > 0.0)
            })
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(err)?
            .label(s.name.clone())
            .legend(move |(lx, ly)| {
                PathElement::new(vec![(lx, ly), (lx + 20, ly)], c.stroke_width(3))
            });
        if s.dots {
            chart
                .draw_series(pts.iter().map(|pt| Circle::new(*pt, 3, c.filled())))
                .map_err(err)?;
        }
    }
    for m in &p.markers {
        let c = colour(m.series);
        chart
            .draw_series([
                Circle::new((m.x, m.y), 8, c.stroke_width(3)),
                Circle::new((m.x, m.y), 3, c.filled()),
            ])
            .map_err(err)?;
    }
    let legend_fits = p.series.len() <= MAX_LEGEND;
    if legend_fits && (p.series.len() + p.hlines.len() > 1 || !p.hlines.is_empty()) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 13))
            .position(match p.legend {
                Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
                Legend::LowerRight => SeriesLabelPosition::LowerRight,
            })
            .draw()
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
    if !p.hlines.is_empty() {
        // Headroom for the legend above the bars.
        y1 *= 1.3;
    }
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0.0..y1)
        .map_err(err)?;
    let cats = p.categories.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .x_labels(n)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                cats.get(*i as usize).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(p.values.iter().enumerate().map(|(i, v)| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i as i32), 0.0),
                    (SegmentValue::Exact(i as i32 + 1), *v),
                ],
                colour(0).mix(0.8).filled(),
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
        let label = h.label.clone();
        chart
            .draw_series(DashedLineSeries::new(
                vec![(SegmentValue::Exact(0), h.y), (SegmentValue::Last, h.y)],
                8,
                5,
                ShapeStyle::from(&RGBColor(200, 0, 0)).stroke_width(2),
            ))
            .map_err(err)?
            .label(label)
            .legend(|(lx, ly)| {
                PathElement::new(
                    vec![(lx, ly), (lx + 20, ly)],
                    RGBColor(200, 0, 0).stroke_width(2),
                )
            });
    }
    if !p.hlines.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
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
    fn ticks_are_compact() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(12.5), "12.5");
        assert_eq!(tick(1500.0), "1500");
        assert_eq!(tick(25000.0), "25k");
        assert_eq!(tick(2_500_000.0), "2.5M");
    }
}
