//! Charts as SVG: a region's mining power by month against its peak (the report), and a
//! meter's daily energy with its step onset (a case's load curve).

use crate::PresentError;
use minewatch_store::report::{RegionRow, Report};

/// Draws mining power per month of the given rows against each one's peak into an SVG file.
pub fn chart_svg(
    report: &Report,
    rows: &[&RegionRow],
    path: &std::path::Path,
) -> Result<(), PresentError> {
    let svg = chart_svg_string(report, rows)?;
    std::fs::write(path, svg).map_err(|e| PresentError::Io {
        path: path.display().to_string(),
        source: e,
    })
}

/// The same chart as SVG text (for pages that embed it).
pub fn chart_svg_string(report: &Report, rows: &[&RegionRow]) -> Result<String, PresentError> {
    let err = |e: String| PresentError::Draw(format!("the chart: {e}"));
    let mut out = String::new();
    draw(report, rows, &mut out).map_err(err)?;
    Ok(out)
}

fn draw(report: &Report, rows: &[&RegionRow], out: &mut String) -> Result<(), String> {
    use plotters::prelude::*;
    let err = |e: String| e;
    let months: Vec<String> = rows
        .first()
        .map(|r| r.months.iter().map(|m| m.month.clone()).collect())
        .unwrap_or_default();
    let n = months.len().max(1);
    let top = rows
        .iter()
        .flat_map(|r| r.months.iter().map(|m| m.power_kw_high))
        .fold(1.0_f64, f64::max)
        * 1.1;
    let root = SVGBackend::with_string(out, (1000, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Mining power by month (kW), as of {} / 挖矿负荷（千瓦）",
                &report.as_of[..10.min(report.as_of.len())]
            ),
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0usize..n, 0.0..top)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_labels(n.min(12))
        .x_label_formatter(&|i| months.get(*i).cloned().unwrap_or_default())
        .y_desc("kW")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (i, r) in rows.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let label = if r.name_en.is_empty() {
            r.code.clone()
        } else {
            format!("{} {}", r.code, r.name_en)
        };
        chart
            .draw_series(LineSeries::new(
                r.months.iter().enumerate().map(|(x, m)| (x, m.power_kw)),
                color.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        if let Some(peak) = r
            .months
            .iter()
            .position(|m| Some(&m.month) == r.peak_month.as_ref())
        {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (peak, r.peak_kw),
                    5,
                    color.filled(),
                )))
                .map_err(|e| err(e.to_string()))?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// A meter's daily energy as an SVG line, with the step onset marked: the load curve of a case.
pub fn load_curve_svg(
    start: i64,
    values: &[Option<f32>],
    onset: Option<i64>,
) -> Result<String, PresentError> {
    use plotters::prelude::*;
    let err = |e: String| PresentError::Draw(format!("the load curve: {e}"));
    let n = values.len().max(2);
    let top = values.iter().flatten().fold(1.0_f32, |a, v| a.max(*v)) as f64 * 1.1;
    let day = |i: usize| minewatch_store::time::format_date(start + i as i64 * 86_400);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(55)
            .build_cartesian_2d(0..n, 0.0..top)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_labels(6)
            .x_label_formatter(&|i| day(*i))
            .y_desc("kWh/day")
            .draw()
            .map_err(|e| err(e.to_string()))?;
        // Gaps (days with too few readings) break the line rather than bridge it.
        let mut run: Vec<(usize, f64)> = Vec::new();
        let mut runs = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => run.push((i, f64::from(*v))),
                None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        runs.push(run);
        for r in runs.into_iter().filter(|r| !r.is_empty()) {
            chart
                .draw_series(LineSeries::new(r, BLUE.stroke_width(2)))
                .map_err(|e| err(e.to_string()))?;
        }
        if let Some(o) = onset {
            let at = ((o - start) / 86_400).clamp(0, n as i64 - 1) as usize;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(at, 0.0), (at, top)],
                    RED.stroke_width(2),
                )))
                .map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(out)
}
