//! `docs/performance.svg`: time per call for each scenario, plugin and host, drawn with plotters.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::bench::results::Figures;
use crate::bench::SCENARIOS;
use crate::{Host, Language};

const RUST_HOST: RGBColor = RGBColor(31, 119, 180);
const GO_HOST: RGBColor = RGBColor(255, 127, 14);

/// One panel per scenario, one pair of bars (rust-host, go-host) per plugin language, in us.
pub(crate) fn draw(figures: &Figures, languages: &[Language]) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1250, 430)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (title, body) = root.split_vertically(44);
        title
            .titled(
                "Time per call in microseconds, one instance reused: rust-host (blue), go-host (orange)",
                ("sans-serif", 18),
            )
            .map_err(plot_error)?;
        let panels = body.split_evenly((1, SCENARIOS.len()));
        for (panel, scenario) in panels.iter().zip(SCENARIOS) {
            let us = |host: Host, language: Language| {
                figures
                    .ns(host, &format!("call/{language}/{scenario}"))
                    .map(|ns| ns / 1000.0)
            };
            let highest = languages
                .iter()
                .flat_map(|&l| [us(Host::Rust, l), us(Host::Go, l)])
                .flatten()
                .fold(0.0, f64::max);
            let top = if highest > 0.0 { highest * 1.2 } else { 1.0 };
            let mut chart = ChartBuilder::on(panel)
                .caption(*scenario, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(26)
                .y_label_area_size(52)
                .build_cartesian_2d((0..languages.len()).into_segmented(), 0.0..top)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_label_formatter(&|value| match value {
                    SegmentValue::CenterOf(i) => languages
                        .get(*i)
                        .map_or(String::new(), |l| l.name().to_owned()),
                    _ => String::new(),
                })
                .y_label_formatter(&|us| format!("{us:.0}"))
                .draw()
                .map_err(plot_error)?;
            for (i, &language) in languages.iter().enumerate() {
                let bars = [
                    (
                        Host::Rust,
                        SegmentValue::Exact(i),
                        SegmentValue::CenterOf(i),
                        RUST_HOST,
                    ),
                    (
                        Host::Go,
                        SegmentValue::CenterOf(i),
                        SegmentValue::Exact(i + 1),
                        GO_HOST,
                    ),
                ];
                for (host, left, right, color) in bars {
                    let Some(value) = us(host, language) else {
                        continue;
                    };
                    let mut bar = Rectangle::new([(left, value), (right, 0.0)], color.filled());
                    bar.set_margin(0, 0, 4, 4);
                    chart.draw_series([bar]).map_err(plot_error)?;
                    let label = if value >= 100.0 {
                        format!("{value:.0}")
                    } else {
                        format!("{value:.1}")
                    };
                    let at = match host {
                        Host::Rust => SegmentValue::Exact(i),
                        Host::Go => SegmentValue::CenterOf(i),
                    };
                    chart
                        .draw_series([Text::new(
                            label,
                            (at, value + top * 0.06),
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
