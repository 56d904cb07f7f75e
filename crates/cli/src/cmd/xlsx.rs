//! XLSX output for analysts: the quote and the scorecard as workbooks.
//!
//! Amounts are written as spreadsheet numbers (IEEE doubles, as Excel stores every
//! number) from the exact decimals; the exact values stay in `--json`.

use std::path::Path;

use kam_core::text::for_cell;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::error::CliError;
use kam_account::views::{PriceReport, ScorecardReport};

fn err(path: &Path, e: XlsxError) -> CliError {
    CliError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn num(ws: &mut Worksheet, row: u32, col: u16, v: Decimal, f: &Format) -> Result<(), XlsxError> {
    ws.write_number_with_format(row, col, v.to_f64().unwrap_or(f64::NAN), f)?;
    Ok(())
}

fn headers(ws: &mut Worksheet, row: u32, names: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (c, h) in names.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *h, bold)?;
    }
    Ok(())
}

/// Writes the quote: one row per activity, totals, adjustments and CM1–CM3.
pub fn quote(r: &PriceReport, path: &Path) -> Result<(), CliError> {
    let write = || -> Result<(), XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let amount = Format::new().set_num_format("#,##0.00");
        let qty = Format::new().set_num_format("#,##0.###");
        let ws = wb.add_worksheet();
        ws.set_name("Quote")?;
        ws.write_string_with_format(
            0,
            0,
            format!(
                "Quote {} / {} ({}) {}",
                r.node, r.service_line, r.period, r.currency
            ),
            &bold,
        )?;
        headers(
            ws,
            2,
            &[
                "Activity",
                "Quantity",
                "Baseline",
                "Proposal",
                "Delta",
                "Explanation",
            ],
            &bold,
        )?;
        let mut row = 3;
        for l in &r.lines {
            ws.write_string(row, 0, for_cell(&l.activity))?;
            num(ws, row, 1, l.quantity, &qty)?;
            num(ws, row, 2, l.baseline, &amount)?;
            num(ws, row, 3, l.proposal, &amount)?;
            num(ws, row, 4, l.delta, &amount)?;
            ws.write_string(row, 5, for_cell(&l.explanation))?;
            row += 1;
        }
        ws.write_string_with_format(row, 0, "Total", &bold)?;
        num(ws, row, 2, r.baseline_total, &amount)?;
        num(ws, row, 3, r.proposal_total, &amount)?;
        row += 1;
        for (label, a) in &r.adjustments {
            ws.write_string(row, 0, for_cell(label))?;
            num(ws, row, 3, *a, &amount)?;
            row += 1;
        }
        ws.write_string_with_format(row, 0, "Proposal net", &bold)?;
        num(ws, row, 3, r.proposal_net, &amount)?;
        num(ws, row, 4, r.delta, &amount)?;
        row += 2;
        headers(ws, row, &["Layer", "Cost", "Margin", "Margin %"], &bold)?;
        row += 1;
        for l in &r.contribution {
            ws.write_string(row, 0, for_cell(&l.layer))?;
            num(ws, row, 1, l.cost, &amount)?;
            num(ws, row, 2, l.margin, &amount)?;
            if let Some(p) = l.margin_pct {
                num(ws, row, 3, p, &amount)?;
            }
            row += 1;
        }
        ws.set_column_width(0, 28)?;
        ws.set_column_width(5, 70)?;
        wb.save(path)?;
        Ok(())
    };
    write().map_err(|e| err(path, e))
}

/// Writes the scorecard: measures with scores and contributions, and site scores.
pub fn scorecard(r: &ScorecardReport, path: &Path) -> Result<(), CliError> {
    let write = || -> Result<(), XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let dec = Format::new().set_num_format("0.0000");
        let ws = wb.add_worksheet();
        ws.set_name("Scorecard")?;
        ws.write_string_with_format(
            0,
            0,
            format!(
                "{} — {} {}: {} ({})",
                r.sheet.template,
                r.node,
                r.period,
                r.sheet.overall.round_dp(4),
                r.sheet.grade
            ),
            &bold,
        )?;
        headers(
            ws,
            2,
            &[
                "Group",
                "KPI",
                "Actual",
                "Target",
                "Score",
                "Weight",
                "Contribution",
            ],
            &bold,
        )?;
        let mut row = 3;
        for m in &r.sheet.measures {
            ws.write_string(row, 0, for_cell(&m.group))?;
            ws.write_string(row, 1, for_cell(&m.kpi))?;
            match m.actual {
                Some(a) => num(ws, row, 2, a, &dec)?,
                None => {
                    ws.write_string(row, 2, "n/a")?;
                }
            }
            num(ws, row, 3, m.target, &dec)?;
            if let Some(s) = m.score {
                num(ws, row, 4, s, &dec)?;
            }
            num(ws, row, 5, m.weight, &dec)?;
            num(ws, row, 6, m.contribution, &dec)?;
            row += 1;
        }
        ws.write_string_with_format(row, 0, "Overall", &bold)?;
        num(ws, row, 6, r.sheet.overall, &dec)?;
        ws.set_column_width(1, 28)?;
        let sites = wb.add_worksheet();
        sites.set_name("Sites")?;
        headers(sites, 0, &["Site", "Overall", "Grade"], &bold)?;
        for (i, s) in r.sites.iter().enumerate() {
            let row = i as u32 + 1;
            sites.write_string(row, 0, for_cell(&s.site))?;
            num(sites, row, 1, s.overall, &dec)?;
            sites.write_string(row, 2, for_cell(&s.grade))?;
        }
        wb.save(path)?;
        Ok(())
    };
    write().map_err(|e| err(path, e))
}
