//! The recap's picture: the share of each region's requests covered in
//! each of the last twelve weeks, as a PNG. Pure: data in, PNG bytes out;
//! no clock, no I/O. Text is drawn with a font compiled into the binary
//! (Hack, from `epaint_default_fonts`), so the chart renders on a machine
//! with no system fonts.

use std::sync::OnceLock;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::bulletins::week::PrayerWeek;

/// How many weeks the chart shows: the week it ends with and the eleven
/// before it.
pub const WEEKS: usize = 12;

/// The picture's size in pixels (width, height).
pub const SIZE: (u32, u32) = (960, 480);

/// The file name the picture is attached under.
pub const FILE_NAME: &str = "coverage.png";

/// How many regions get a colour and a line of their own; more are left out
/// of the picture (a bulletin has a handful).
const MOST_REGIONS: usize = 10;

/// One region's requests in one week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionShare {
    pub region: String,
    /// Prayable requests someone committed to or prayed for.
    pub covered: usize,
    /// Prayable requests in the region.
    pub total: usize,
}

/// One week of the chart: `None` for a week with no bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekCoverage {
    pub week: PrayerWeek,
    pub regions: Option<Vec<RegionShare>>,
}

/// Why the picture could not be drawn, as a clause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the chart could not be drawn ({0})")]
pub struct ChartError(String);

fn failed(error: impl std::fmt::Display) -> ChartError {
    ChartError(error.to_string())
}

/// The [`WEEKS`] weeks ending with `last`, oldest first, each with what
/// `found` says of it; a week `found` does not name counts as one with no
/// bulletin.
pub fn twelve_weeks(last: PrayerWeek, found: &[WeekCoverage]) -> Vec<WeekCoverage> {
    let weeks = u32::try_from(WEEKS - 1).unwrap_or(0);
    let mut week = last.weeks_before(weeks);
    let mut all = Vec::with_capacity(WEEKS);
    for _ in 0..WEEKS {
        let regions = found
            .iter()
            .find(|w| w.week == week)
            .and_then(|w| w.regions.clone());
        all.push(WeekCoverage { week, regions });
        week = week.next();
    }
    all
}

/// The colours of the regions' lines, in the order the regions first
/// appear.
const COLOURS: [RGBColor; MOST_REGIONS] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The font every label is drawn in, registered once as plotters'
/// `sans-serif`.
fn font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(
            "sans-serif",
            FontStyle::Normal,
            epaint_default_fonts::HACK_REGULAR,
        )
        .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError("the bundled font could not be read".to_owned()))
    }
}

/// The regions of `weeks` in the order they first appear, at most
/// [`MOST_REGIONS`].
fn regions_of(weeks: &[WeekCoverage]) -> Vec<String> {
    let mut regions: Vec<String> = Vec::new();
    for share in weeks.iter().filter_map(|w| w.regions.as_ref()).flatten() {
        if !regions.contains(&share.region) && regions.len() < MOST_REGIONS {
            regions.push(share.region.clone());
        }
    }
    regions
}

/// A region's line, in runs of consecutive weeks that have a share of it
/// (a week without the region breaks the line): (week index, percent).
fn runs(weeks: &[WeekCoverage], region: &str) -> Vec<Vec<(usize, f64)>> {
    let mut runs: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut run = Vec::new();
    for (index, week) in weeks.iter().enumerate() {
        let share = week
            .regions
            .iter()
            .flatten()
            .find(|s| s.region == region && s.total > 0);
        match share {
            Some(share) => {
                let percent = 100.0 * share.covered as f64 / share.total as f64;
                run.push((index, percent));
            }
            None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// The picture of `weeks` (oldest first, as [`twelve_weeks`] gives them)
/// as PNG bytes, [`SIZE`] pixels.
pub fn draw(weeks: &[WeekCoverage]) -> Result<Vec<u8>, ChartError> {
    font()?;
    let (width, height) = SIZE;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let (plot, legend) = root.split_horizontally(width * 3 / 4);
        plot_weeks(&plot, weeks)?;
        draw_legend(&legend, &regions_of(weeks))?;
        root.present().map_err(failed)?;
    }
    encode(&pixels)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// The axes, a grey band for each week with no bulletin, and a line per
/// region.
fn plot_weeks(area: &Area<'_>, weeks: &[WeekCoverage]) -> Result<(), ChartError> {
    let count = i32::try_from(weeks.len()).map_err(failed)?;
    let mut chart = ChartBuilder::on(area)
        .caption("Requests covered per region (%)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(48)
        // A segmented range of 0..n has a segment for each of 0..=n.
        .build_cartesian_2d((0..(count - 1).max(0)).into_segmented(), 0.0..100.0)
        .map_err(failed)?;
    let label = |value: &SegmentValue<i32>| match value {
        SegmentValue::CenterOf(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| weeks.get(i))
            .map(|w| w.week.monday().format("%d %b").to_string())
            .unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(weeks.len())
        .x_label_formatter(&label)
        .y_labels(6)
        .light_line_style(WHITE)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("Week (Monday)")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(failed)?;
    let empty = RGBColor(235, 235, 235).filled();
    for (index, week) in (0..count).zip(weeks) {
        if week.regions.is_none() {
            let band = [
                (SegmentValue::Exact(index), 0.0),
                (SegmentValue::Exact(index + 1), 100.0),
            ];
            chart
                .draw_series(std::iter::once(Rectangle::new(band, empty)))
                .map_err(failed)?;
        }
    }
    for (region, colour) in regions_of(weeks).iter().zip(COLOURS) {
        for run in runs(weeks, region) {
            let points = run.into_iter().filter_map(|(index, percent)| {
                Some((SegmentValue::CenterOf(i32::try_from(index).ok()?), percent))
            });
            let line = LineSeries::new(points, colour.stroke_width(3)).point_size(4);
            chart.draw_series(line).map_err(failed)?;
        }
    }
    Ok(())
}

/// The regions' colours and names, and what a grey band means.
fn draw_legend(area: &Area<'_>, regions: &[String]) -> Result<(), ChartError> {
    let text = ("sans-serif", 15).into_font().color(&BLACK);
    let mut y = 60;
    for (region, colour) in regions.iter().zip(COLOURS) {
        area.draw(&Rectangle::new([(8, y), (26, y + 12)], colour.filled()))
            .map_err(failed)?;
        let name: String = region.chars().take(22).collect();
        area.draw(&Text::new(name, (34, y - 2), text.clone()))
            .map_err(failed)?;
        y += 26;
    }
    area.draw(&Rectangle::new(
        [(8, y), (26, y + 12)],
        RGBColor(235, 235, 235).filled(),
    ))
    .map_err(failed)?;
    area.draw(&Text::new("no bulletin", (34, y - 2), text))
        .map_err(failed)?;
    Ok(())
}

/// RGB pixels of [`SIZE`] as a PNG.
fn encode(pixels: &[u8]) -> Result<Vec<u8>, ChartError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, SIZE.0, SIZE.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(text: &str) -> PrayerWeek {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn share(region: &str, covered: usize, total: usize) -> RegionShare {
        RegionShare {
            region: region.to_owned(),
            covered,
            total,
        }
    }

    /// The PNG's width, height and pixels (RGB).
    fn decoded(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut pixels).expect("a frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        pixels.truncate(info.buffer_size());
        (info.width, info.height, pixels)
    }

    #[test]
    fn twelve_weeks_are_listed_oldest_first_and_a_week_not_found_is_empty() {
        let last = week("2026-11-23");
        let found = [
            WeekCoverage {
                week: last,
                regions: Some(vec![share("Africa", 1, 2)]),
            },
            WeekCoverage {
                week: week("2026-09-07"),
                regions: Some(vec![share("Asia", 2, 2)]),
            },
            // Older than the twelve weeks: left out.
            WeekCoverage {
                week: week("2026-08-31"),
                regions: Some(vec![share("Asia", 1, 1)]),
            },
        ];
        let weeks = twelve_weeks(last, &found);
        assert_eq!(weeks.len(), WEEKS);
        assert_eq!(weeks[0].week, week("2026-09-07"));
        assert_eq!(weeks[11].week, last);
        assert!(weeks.windows(2).all(|w| w[0].week.next() == w[1].week));
        assert_eq!(weeks[0].regions, Some(vec![share("Asia", 2, 2)]));
        assert_eq!(weeks[11].regions, Some(vec![share("Africa", 1, 2)]));
        assert!(weeks[1..11].iter().all(|w| w.regions.is_none()));
    }

    #[test]
    fn a_regions_line_breaks_at_a_week_without_it() {
        let last = week("2026-11-23");
        let mut weeks = twelve_weeks(last, &[]);
        weeks[2].regions = Some(vec![share("Africa", 1, 4)]);
        weeks[3].regions = Some(vec![share("Africa", 2, 4)]);
        weeks[5].regions = Some(vec![share("Africa", 0, 3), share("Asia", 3, 3)]);
        assert_eq!(
            runs(&weeks, "Africa"),
            vec![vec![(2, 25.0), (3, 50.0)], vec![(5, 0.0)]]
        );
        assert_eq!(regions_of(&weeks), ["Africa", "Asia"]);
    }

    #[test]
    fn the_picture_is_a_png_of_the_promised_size_with_something_drawn() {
        let last = week("2026-11-23");
        let mut weeks = twelve_weeks(last, &[]);
        for (i, w) in weeks.iter_mut().enumerate().skip(3) {
            w.regions = Some(vec![share("Africa", i % 4, 4), share("Middle East", 2, 3)]);
        }
        let png = draw(&weeks).expect("drawn");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let (width, height, pixels) = decoded(&png);
        assert_eq!((width, height), SIZE);
        // The first region's colour is on the picture (its line), and so
        // are dark pixels (the labels, drawn with the bundled font).
        let has = |rgb: [u8; 3]| pixels.chunks(3).any(|p| p == rgb);
        assert!(has([31, 119, 180]), "no line of the first region");
        assert!(
            has([235, 235, 235]),
            "no band for the weeks with no bulletin"
        );
        let dark = pixels
            .chunks(3)
            .filter(|p| p.iter().all(|&c| c < 60))
            .count();
        assert!(dark > 500, "hardly any text or axes: {dark} dark pixels");
    }

    #[test]
    fn twelve_empty_weeks_still_draw() {
        let weeks = twelve_weeks(week("2026-11-23"), &[]);
        let (width, height, _) = decoded(&draw(&weeks).expect("drawn"));
        assert_eq!((width, height), SIZE);
    }
}
