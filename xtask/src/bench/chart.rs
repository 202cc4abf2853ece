//! `docs/performance.svg`: time per call for each scenario, plugin and host, drawn with plotters.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::bench::results::Figures;
use crate::bench::{measured_hosts, SCENARIOS};
use crate::table::{Host, Language, LANGUAGES};

/// One colour per host, in table order (a host past the last reuses them from the start).
const PALETTE: [(RGBColor, &str); 6] = [
    (RGBColor(31, 119, 180), "blue"),
    (RGBColor(255, 127, 14), "orange"),
    (RGBColor(44, 160, 44), "green"),
    (RGBColor(214, 39, 40), "red"),
    (RGBColor(148, 103, 189), "purple"),
    (RGBColor(140, 86, 75), "brown"),
];

/// One panel per scenario; per plugin language, one bar per host with benchmarks, in us.
pub(crate) fn draw(figures: &Figures) -> anyhow::Result<String> {
    let hosts: Vec<&Host> = measured_hosts().into_iter().map(|(h, _)| h).collect();
    let per_group = hosts.len().max(1);
    let legend: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, host)| format!("{host} ({})", PALETTE[i % PALETTE.len()].1))
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1250, 430)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (title, body) = root.split_vertically(44);
        title
            .titled(
                &format!(
                    "Time per call in microseconds, one instance reused: {}",
                    legend.join(", ")
                ),
                ("sans-serif", 18),
            )
            .map_err(plot_error)?;
        let panels = body.split_evenly((1, SCENARIOS.len()));
        for (panel, scenario) in panels.iter().zip(SCENARIOS) {
            let us = |host: &Host, language: &Language| {
                figures
                    .ns(host, &format!("call/{language}/{scenario}"))
                    .map(|ns| ns / 1000.0)
            };
            let highest = LANGUAGES
                .iter()
                .flat_map(|l| hosts.iter().map(move |h| us(h, l)))
                .flatten()
                .fold(0.0, f64::max);
            let top = if highest > 0.0 { highest * 1.2 } else { 1.0 };
            // One segment per bar; a language's name under the middle of its group.
            let bars = LANGUAGES.len() * per_group;
            let mut chart = ChartBuilder::on(panel)
                .caption(*scenario, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(26)
                .y_label_area_size(52)
                .build_cartesian_2d((0..bars).into_segmented(), 0.0..top)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(bars)
                .x_label_formatter(&|value| match value {
                    SegmentValue::CenterOf(i) if i % per_group == (per_group - 1) / 2 => LANGUAGES
                        .get(i / per_group)
                        .map_or(String::new(), |l| l.name().to_owned()),
                    _ => String::new(),
                })
                .y_label_formatter(&|us| format!("{us:.0}"))
                .draw()
                .map_err(plot_error)?;
            for (l, language) in LANGUAGES.iter().enumerate() {
                for (h, host) in hosts.iter().enumerate() {
                    let Some(value) = us(host, language) else {
                        continue;
                    };
                    let i = l * per_group + h;
                    let color = PALETTE[h % PALETTE.len()].0;
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), value),
                            (SegmentValue::Exact(i + 1), 0.0),
                        ],
                        color.filled(),
                    );
                    bar.set_margin(0, 0, 2, 2);
                    chart.draw_series([bar]).map_err(plot_error)?;
                    let label = if value >= 100.0 {
                        format!("{value:.0}")
                    } else {
                        format!("{value:.1}")
                    };
                    chart
                        .draw_series([Text::new(
                            label,
                            (SegmentValue::Exact(i), value + top * 0.06),
                            ("sans-serif", 11),
                        )])
                        .map_err(plot_error)?;
                }
            }
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

fn plot_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("cannot draw the chart: {error}")
}
