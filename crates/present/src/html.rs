//! Printable documents per case: the rectification notice (整改通知书) and the on-site
//! inspection sheet (现场检查记录表), as self-contained HTML with print styles, in zh-CN or
//! English. HTML rather than PDF: every browser prints it to paper or PDF, and no maintained
//! Rust PDF crate lays out Chinese text without shipping a CJK font of several megabytes. The
//! facts come from the store (`minewatch_store::documents::facts`); only the page is made here.

use minewatch_model::lang::Lang;
use minewatch_store::cases::{Case, EvidenceRow};
use minewatch_store::documents::{Doc, DocFacts, Site};
use minewatch_store::penalties::Assessment;

/// The first sixteen characters of an RFC 3339 time (`YYYY-MM-DDTHH:MM`), escaped: a time
/// to the minute in a table.
pub fn minute(at: &str) -> String {
    esc(at.get(..16).unwrap_or(at))
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(ch),
        }
    }
    o
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;\
max-width:760px;margin:2em auto;color:#111;line-height:1.55}h1{text-align:center;font-size:1.5em;\
letter-spacing:.1em}table{border-collapse:collapse;width:100%;margin:1em 0}th,td{border:1px solid #444;\
padding:.35em .5em;text-align:left;vertical-align:top;font-size:.92em}th{background:#f0f0f0;width:28%}\
.no{text-align:right;color:#444}.sign{margin-top:3em;display:flex;justify-content:space-between}\
.box{min-height:4em}@media print{body{margin:0;max-width:none}@page{size:A4;margin:18mm}\
a{color:inherit;text-decoration:none}}";

/// The page of document `doc` for a case, from its facts.
pub fn document(f: &DocFacts, doc: Doc, lang: Lang) -> String {
    match doc {
        Doc::Notice => notice(&f.case, &f.site, &f.evidence, f.surcharge.as_ref(), lang),
        Doc::Inspection => inspection(&f.case, &f.site, &f.evidence, lang),
    }
}

fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// The page up to the title and case number.
fn head(title: &str, case_id: i64, lang: Lang) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>{STYLE}</style></head><body><h1>{title}</h1><p class=\"no\">{} {case_id}</p>",
        if lang == Lang::Zh { "zh-CN" } else { "en" },
        t(lang, "案件编号", "Case no."),
        title = esc(title),
    )
}

/// Two signature boxes and the end of the page.
fn signatures(left: &str, right: &str) -> String {
    format!(
        "<div class=\"sign\"><div>{left}<div class=\"box\"></div></div><div>{right}<div class=\"box\"></div></div></div></body></html>"
    )
}

fn row(th: &str, td: &str) -> String {
    format!("<tr><th>{}</th><td>{}</td></tr>", esc(th), esc(td))
}

fn site_rows(case: &Case, s: &Site, lang: Lang) -> String {
    let mut o = String::new();
    o += &row(t(lang, "场所编号", "Site"), &case.site_id);
    o += &row(t(lang, "名称", "Name"), &s.name);
    o += &row(t(lang, "地址", "Address"), &s.address);
    o += &row(t(lang, "责任人", "Responsible party"), &s.owner);
    o += &row(
        t(lang, "行政区划代码", "Region code (GB/T 2260)"),
        &case.region_code,
    );
    o += &row(t(lang, "用电类别", "Tariff class"), &s.tariff);
    o += &row(t(lang, "合同容量", "Contracted capacity"), &s.capacity);
    o
}

fn evidence_table(ev: &[EvidenceRow], lang: Lang) -> String {
    let mut o = format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(lang, "时间", "Time"),
        t(lang, "来源", "Source"),
        t(lang, "内容", "Finding")
    );
    for e in ev.iter().take(20) {
        o += &format!(
            "<tr><td>{}</td><td>{} / {}</td><td>{}</td></tr>",
            minute(&e.observed_from),
            esc(&e.department),
            esc(&e.detector),
            esc(&e.summary)
        );
    }
    if ev.len() > 20 {
        o += &format!(
            "<tr><td colspan=\"3\">{} {}</td></tr>",
            ev.len() - 20,
            t(
                lang,
                "条其他证据见系统记录",
                "more pieces of evidence in the case record"
            )
        );
    }
    o + "</table>"
}

fn notice(
    case: &Case,
    s: &Site,
    ev: &[EvidenceRow],
    pen: Option<&Assessment>,
    lang: Lang,
) -> String {
    let title = t(
        lang,
        "虚拟货币“挖矿”活动整改通知书",
        "Notice to rectify cryptocurrency mining",
    );
    let mut o = head(title, case.case_id, lang);
    o += &format!(
        "<p>{}</p>",
        t(
            lang,
            "经监测与核查，下列场所存在虚拟货币“挖矿”活动。依据《关于整治虚拟货币“挖矿”活动的通知》（发改运行〔2021〕1283号），请于收到本通知之日起限期整改：停止挖矿、拆除或封存矿机，并配合复查。",
            "Monitoring and checks show cryptocurrency mining at the site below. Under NDRC notice 发改运行〔2021〕1283号 on the rectification of cryptocurrency mining, you are required to stop mining, remove or seal the mining machines, and admit a re-inspection, within the period set from receipt of this notice."
        )
    );
    o += "<table>";
    o += &site_rows(case, s, lang);
    o += &row(
        t(lang, "估算挖矿负荷", "Estimated mining load"),
        &format!(
            "{:.1} kW ({:.1}–{:.1})",
            case.power_kw, case.power_kw_low, case.power_kw_high
        ),
    );
    o += &row(
        t(lang, "估算月用电量", "Estimated energy per month"),
        &format!("{:.0} kWh", case.energy_kwh_month),
    );
    o += &row(
        t(lang, "首次发现", "First seen"),
        case.first_seen.as_deref().unwrap_or(""),
    );
    o += &row(
        t(lang, "最近发现", "Last seen"),
        case.last_seen.as_deref().unwrap_or(""),
    );
    o += "</table>";
    o += &format!("<h2>{}</h2>", t(lang, "证据摘要", "Evidence"));
    o += &evidence_table(ev, lang);
    if let Some(p) = pen {
        o += &format!("<h2>{}</h2><table>", t(lang, "加价电费测算", "Surcharge"));
        o += &row(
            t(lang, "计费期间", "Billed period"),
            &format!(
                "{} – {} ({:.0} {})",
                p.from,
                p.to,
                p.days,
                t(lang, "天", "days")
            ),
        );
        o += &row(
            t(lang, "计费负荷", "Billed load"),
            &format!("{:.1} kW", p.billed_kw),
        );
        o += &row(
            t(lang, "计费电量", "Billed energy"),
            &format!("{:.0} kWh", p.energy_kwh),
        );
        o += &row(
            t(lang, "加价标准", "Rate"),
            &format!("{:.2} {}/kWh", p.rule.surcharge_per_kwh, p.rule.currency),
        );
        o += &row(
            t(lang, "应收加价电费", "Surcharge due"),
            &format!("{:.2} {}", p.amount, p.rule.currency),
        );
        o += &row(t(lang, "依据", "Basis"), &p.rule.source);
        o += "</table>";
    }
    o += &signatures(
        t(lang, "发出单位（盖章）：", "Issued by (seal):"),
        t(lang, "签收人 / 日期：", "Received by / date:"),
    );
    o
}

fn inspection(case: &Case, s: &Site, ev: &[EvidenceRow], lang: Lang) -> String {
    let title = t(
        lang,
        "虚拟货币“挖矿”现场检查记录表",
        "On-site inspection sheet: cryptocurrency mining",
    );
    let mut o = head(title, case.case_id, lang);
    o += "<table>";
    o += &site_rows(case, s, lang);
    o += &row(
        t(lang, "当前状态", "Case state"),
        &match lang {
            Lang::Zh => case.state.name_zh().to_string(),
            Lang::En => case.state.name().to_string(),
        },
    );
    o += &row(
        t(lang, "估算挖矿负荷", "Estimated mining load"),
        &format!("{:.1} kW", case.power_kw),
    );
    o += "</table>";
    o += &format!("<h2>{}</h2>", t(lang, "线索", "Leads"));
    o += &evidence_table(ev, lang);
    o += &format!(
        "<h2>{}</h2><table>",
        t(
            lang,
            "现场检查（由检查人员填写）",
            "On site (filled in by the inspectors)"
        )
    );
    for (zh, en) in [
        ("检查日期、时间", "Date and time"),
        ("检查人员", "Inspectors"),
        ("是否发现矿机", "Mining machines found (yes/no)"),
        ("矿机数量及型号", "Number and models of machines"),
        ("电能表读数", "Meter reading (kWh)"),
        ("实测负荷（kW）", "Measured load (kW)"),
        (
            "供电方式（有无网前供电、专线）",
            "Supply (any supply ahead of the meter, private line)",
        ),
        (
            "处置措施（拆除、封存、停电）",
            "Action (removed, sealed, supply cut)",
        ),
        ("照片、封条编号", "Photo and seal numbers"),
    ] {
        o += &format!(
            "<tr><th>{}</th><td class=\"box\"></td></tr>",
            t(lang, zh, en)
        );
    }
    o += "</table>";
    o += &signatures(
        t(lang, "检查人员签字：", "Inspectors' signatures:"),
        t(lang, "被检查方签字：", "Signature of the party inspected:"),
    );
    o
}
